package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestWriteFullDisk: a write to a full file system fails in one line that
// names the file being written, not only its temporary file (twice:
// "write DIR/.f.tmp-1: write DIR/.f.tmp-1: no space left on device"), and
// says to free space; the file is as it was and no temporary file is left.
func TestWriteFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root")
	}
	mnt := treetest.SmallFS(t, 64<<10)
	p := filepath.Join(mnt, "apiserver.key")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	treetest.Fill(t, mnt)
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
