package pki

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadFileRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ca.key")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, kind := range map[string]string{fifo: "FIFO", os.DevNull: "device", dir: "folder"} {
		if _, err := ReadFile(path); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), kind) {
			t.Errorf("%s: err = %v, want ErrNotRegular naming the file and %q", path, err, kind)
		}
	}
	if _, _, err := ReadCertFile(fifo); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadCertFile on a FIFO: %v", err)
	}
	regular := filepath.Join(dir, "x")
	if err := os.WriteFile(regular, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFile(link); err != nil || string(data) != "data" {
		t.Errorf("symlink to a regular file: %q %v", data, err)
	}
}
