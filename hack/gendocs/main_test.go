package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReferenceIsUpToDate fails when docs/reference differs from what the
// commands' help generates: run `make docs` and commit the result.
func TestReferenceIsUpToDate(t *testing.T) {
	fresh := t.TempDir()
	if err := generateReference(fresh); err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join("..", "..", "docs", "reference")
	want, _ := filepath.Glob(filepath.Join(fresh, "*.md"))
	have, _ := filepath.Glob(filepath.Join(committed, "*.md"))
	if len(want) != len(have) {
		t.Errorf("docs/reference has %d pages, the commands make %d: run `make docs`", len(have), len(want))
	}
	for _, p := range want {
		got, err := os.ReadFile(filepath.Join(committed, filepath.Base(p)))
		if err != nil {
			t.Errorf("%s is missing: run `make docs`", filepath.Base(p))
			continue
		}
		exp, _ := os.ReadFile(p)
		if string(got) != string(exp) {
			t.Errorf("docs/reference/%s is stale: run `make docs`", filepath.Base(p))
		}
	}
}
