package atomicfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestWriteFullDisk: a write to a full file system fails in one line that
// names the file being written, not only its temporary file (twice:
// "write DIR/.f.tmp-1: write DIR/.f.tmp-1: no space left on device"), and
// says to free space; the file is as it was and no temporary file is left.
func TestWriteFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
	p := filepath.Join(mnt, "apiserver.key")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	fill, err := os.Create(filepath.Join(mnt, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = fill.Write(make([]byte, 1024))
	}
	fill.Close()
	for _, tc := range []struct {
		name  string
		write func(string, []byte, os.FileMode) error
		path  string
	}{
		{"WriteFile", WriteFile, p},
		{"Create", Create, filepath.Join(mnt, "new.key")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.write(tc.path, make([]byte, 8192), 0o600)
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if !errors.Is(err, syscall.ENOSPC) || !strings.HasPrefix(msg, "write "+tc.path+": no space left on device") ||
				!strings.Contains(msg, "free space") || strings.Contains(msg, tempMarker) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line naming %s, no space left on device, and to free space", msg, tc.path)
			}
			if b, _ := os.ReadFile(p); string(b) != "old" {
				t.Errorf("%s holds %q", p, b)
			}
			entries, _ := os.ReadDir(mnt)
			for _, e := range entries {
				if IsTemp(e.Name()) {
					t.Errorf("temporary file %s left", e.Name())
				}
			}
		})
	}
}
