package main

import (
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	var out strings.Builder
	if err := run(&out, 4); err != nil {
		t.Fatal(err, out.String())
	}
	if !strings.Contains(out.String(), "every node got all 8 messages") {
		t.Fatal(out.String())
	}
}
