package apirenew

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/phases/renewal"
)

// TestPendingNotFileOrFolder: a pending key that is a folder, or a
// pending-key folder that is a file, is refused before any key or CSR
// with what works: move it away and run again. Before, the folder got
// "run again with --new-request=admin.conf", which then failed to rename
// a key over the folder, and the file a bare "not a directory".
func TestPendingNotFileOrFolder(t *testing.T) {
	ca := newTestCA(t)
	for _, tc := range []struct {
		name  string
		make  func(t *testing.T, pendingDir string) string // returns the path in the way
		fresh bool
		want  string
	}{
		{"key is a folder", makeKeyFolder, false, "is a folder, not the pending key file of admin.conf"},
		{"key is a folder, with a new request", makeKeyFolder, true, "is a folder, not the pending key file of admin.conf"},
		{"folder is a file", makeFolderFile, false, "is not a folder"},
		{"folder is a file, with a new request", makeFolderFile, true, "is not a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cs := fakeClient()
			is, out := newIssuer(t, cs, dir, func(o *Options) {
				if tc.fresh {
					o.NewRequestFor = []string{"admin.conf"}
				}
			})
			path := tc.make(t, filepath.Join(dir, PendingDirName))
			err := is.Obtain(context.Background(), []renewal.Request{ca.request(t, "admin.conf", adminProfile)})
			if err == nil || !strings.Contains(err.Error(), path+" "+tc.want) || !strings.Contains(err.Error(), "move it away, then run the same command again") ||
				strings.Contains(err.Error(), "--new-request") || strings.Contains(err.Error(), "replace it with the file certctl expects") {
				t.Errorf("Obtain: %v\n%s", err, out)
			}
			if n := csrCount(t, cs); n != 0 {
				t.Errorf("%d CSR(s) created", n)
			}
			if _, err := os.Lstat(path); err != nil {
				t.Errorf("%s: %v, want it left as it was", path, err)
			}
		})
	}
}

func makeKeyFolder(t *testing.T, pendingDir string) string {
	path := filepath.Join(pendingDir, "admin.conf.key")
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

func makeFolderFile(t *testing.T, pendingDir string) string {
	if err := os.WriteFile(pendingDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	return pendingDir
}
