// Package treetest helps bad-input tests: assert that a command left a
// folder tree byte-identical (every file's content and mode, every folder,
// nothing created) and that its error is one line naming what went wrong.
package treetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Snapshot hashes every file under dir (through a symbolic link, the file
// it points to) with its mode; a folder, FIFO, socket or device is
// recorded by its mode alone, a symbolic link to nothing by its target.
func Snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			m[p] = "dir " + info.Mode().String()
			return nil
		}
		if info.Mode().Type()&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice) != 0 {
			// A FIFO, socket or device a test put in place of a file:
			// reading it could block; its kind and mode are what it is.
			m[p] = info.Mode().String()
			return nil
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) && info.Mode().Type() == fs.ModeSymlink {
			// A link to nothing (a file on a volume not mounted): its
			// target is what it is.
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			m[p] = "symlink -> " + target
			return nil
		}
		if err != nil {
			return err
		}
		m[p] = fmt.Sprintf("%s %x", info.Mode(), sha256.Sum256(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// AssertSame fails t for every file or folder that changed, appeared or
// disappeared between two snapshots.
func AssertSame(t testing.TB, before, after map[string]string) {
	t.Helper()
	for p, h := range before {
		if a, ok := after[p]; !ok {
			t.Errorf("%s was removed", p)
		} else if a != h {
			t.Errorf("%s changed: %q -> %q", p, h, a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s was created", p)
		}
	}
}

// chmodReadOnly makes dir mode 0555 until the test ends.
func chmodReadOnly(t testing.TB, dir string) {
	t.Helper()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
}

// ErrMentions fails t unless err is a one-line error that mentions every
// part (a file name, a flag, what to do).
func ErrMentions(t testing.TB, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error mentioning %q, got none", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
}
