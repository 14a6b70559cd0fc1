package main

import (
	"strings"
	"testing"
)

func TestReadmeExample(t *testing.T) {
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "says hello") {
		t.Fatalf("the example printed %q", out.String())
	}
}
