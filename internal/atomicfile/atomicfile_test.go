package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name     string
		existing []byte
		data     []byte
		perm     os.FileMode
	}{
		{name: "new key file", data: []byte("secret"), perm: 0o600},
		{name: "replaces bigger file", existing: []byte("a much longer old content"), data: []byte("new"), perm: 0o644},
		{name: "empty data", existing: []byte("old"), data: nil, perm: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "f")
			if tt.existing != nil {
				if err := os.WriteFile(p, tt.existing, 0o666); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFile(p, tt.data, tt.perm); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(tt.data) {
				t.Errorf("content = %q, want %q", got, tt.data)
			}
			st, _ := os.Stat(p)
			if st.Mode().Perm() != tt.perm {
				t.Errorf("mode = %v, want %v", st.Mode().Perm(), tt.perm)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only the file", len(entries))
			}
		})
	}
}

func TestWriteFileMissingDir(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "nope", "f"), []byte("x"), 0o600)
	if err == nil {
		t.Fatal("want error for missing directory")
	}
}

func TestCleanTemp(t *testing.T) {
	dir := t.TempDir()
	keep := []string{"ca.crt", ".hidden", "x.tmp-1"}
	drop := []string{".ca.key.tmp-12345"}
	for _, n := range append(keep, drop...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := CleanTemp(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || filepath.Base(removed[0]) != drop[0] {
		t.Errorf("removed %v, want only %v", removed, drop)
	}
	for _, n := range keep {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was removed: %v", n, err)
		}
	}
}

// TestCreate: Create writes a new file with its mode, and refuses one that
// exists (fs.ErrExist), which keeps its content; neither leaves a
// temporary file.
func TestCreate(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key")
	if err := Create(p, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Create(p, []byte("second"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Create: %v, want fs.ErrExist", err)
	}
	data, err := os.ReadFile(p)
	if err != nil || string(data) != "first" {
		t.Errorf("content %q (%v), want the first", data, err)
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", st.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left: %v, want the key alone", entries)
	}
}

// TestWriteFileRenameErrorOnce: a rename that fails (here over a folder)
// says "rename TMP to PATH: REASON" once: it said "rename TMP to PATH:
// rename TMP PATH: REASON", os.Rename's own error wrapped. The reason is
// still the error's (errors.Is).
func TestWriteFileRenameErrorOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "apiserver.crt")
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(path, []byte("data"), 0o644)
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Count(err.Error(), path) != 1 || !errors.Is(err, syscall.EISDIR) && !errors.Is(err, syscall.EEXIST) && !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("error %q: want %s named once, with the reason", err, path)
	}
}
