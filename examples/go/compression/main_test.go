package main

import (
	"strings"
	"testing"
)

func TestExample(t *testing.T) {
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	if out.Len() == 0 {
		t.Fatal("the example printed nothing")
	}
}
