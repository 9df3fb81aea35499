// Package fuzzseed writes the seed corpora of fuzz targets, so that the
// files in testdata/fuzz/ can be regenerated rather than edited by hand:
//
//	go test ./pki -run TestFuzzSeeds -write-seeds
//
// Each seed is one file in Go's corpus format, in testdata/fuzz/TARGET/.
package fuzzseed

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Update is set by -write-seeds.
var Update = flag.Bool("write-seeds", false, "rewrite the fuzz seed corpora in testdata/fuzz/")

// Seed is the arguments of one call of a fuzz function taking []byte arguments.
type Seed [][]byte

// Write replaces testdata/fuzz/TARGET/ with one file per named seed, when
// -write-seeds is given; otherwise it checks that the folder has one file
// per seed, so that a seed added in code is not forgotten on disk.
func Write(t *testing.T, target string, seeds map[string]Seed) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if !*Update {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != len(seeds) {
			t.Errorf("%s holds %d seeds, want %d (%v): run go test -run TestFuzzSeeds -write-seeds", dir, len(entries), len(seeds), err)
		}
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, args := range seeds {
		body := "go test fuzz v1\n"
		for _, a := range args {
			body += fmt.Sprintf("[]byte(%q)\n", a)
		}
		if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(name, " ", "-")), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
