package phases

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckCSRDirPrivateSubfolders: a subfolder of the CSR folder that
// another user may write (etcd's, where its keys and CSRs go; a link to
// such a folder) is refused as the CSR folder itself is, naming it and
// the chmod that fixes it: that user could swap etcd-peer's key and CSR
// for their own before they go to the CA. Private subfolders, links to
// files and dangling links are no error.
func TestCheckCSRDirPrivateSubfolders(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, csrDir, other string) // other: a folder outside, mode 0777
		bad   string                                   // the subfolder refused; "" for none
	}{
		{"private subfolders", func(t *testing.T, csrDir, _ string) {
			mkdir(t, filepath.Join(csrDir, "etcd"), 0o755)
			mkdir(t, filepath.Join(csrDir, "pki", "etcd"), 0o700)
		}, ""},
		{"other-writable subfolder", func(t *testing.T, csrDir, _ string) {
			mkdir(t, filepath.Join(csrDir, "etcd"), 0o777)
		}, "etcd"},
		{"group-writable folder two down", func(t *testing.T, csrDir, _ string) {
			mkdir(t, filepath.Join(csrDir, "pki"), 0o755)
			mkdir(t, filepath.Join(csrDir, "pki", "etcd"), 0o775)
		}, "pki/etcd"},
		{"link to an other-writable folder", func(t *testing.T, csrDir, other string) {
			symlink(t, other, filepath.Join(csrDir, "etcd"))
		}, "etcd"},
		{"link to a file, dangling link", func(t *testing.T, csrDir, other string) {
			if err := os.WriteFile(filepath.Join(other, "f"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			symlink(t, filepath.Join(other, "f"), filepath.Join(csrDir, "f"))
			symlink(t, filepath.Join(other, "none"), filepath.Join(csrDir, "none"))
		}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			csrDir, other := filepath.Join(dir, "csr"), filepath.Join(dir, "other")
			mkdir(t, csrDir, 0o700)
			mkdir(t, other, 0o777)
			tt.setup(t, csrDir, other)
			err := CheckCSRDirPrivate(csrDir)
			if tt.bad == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			bad := filepath.Join(csrDir, tt.bad)
			if err == nil || !strings.Contains(err.Error(), "CSR folder "+bad+" is mode 07") || !strings.Contains(err.Error(), "chmod 700 "+bad) {
				t.Errorf("got %v, want the refusal of %s with its chmod", err, bad)
			}
		})
	}
}

func mkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
