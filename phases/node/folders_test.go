package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckFoldersNamesTheFlag: a file given where a folder belongs is
// named with the flag that gave it; the manifest folder (ca rotate passes
// it after the kubeconfig folder) was called --kubeconfig-dir.
func TestCheckFoldersNamesTheFlag(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		certDir        string
		kubeconfigDirs []string
		want           string
	}{
		{"cert-dir", file, []string{dir}, "--cert-dir " + file + " is a file, not a folder: pass the folder that holds the files (kubeadm's is /etc/kubernetes/pki)"},
		{"kubeconfig-dir", dir, []string{file}, "--kubeconfig-dir " + file + " is a file, not a folder: pass the folder that holds the files (kubeadm's is /etc/kubernetes)"},
		{"manifest-dir", dir, []string{dir, file}, "--manifest-dir " + file + " is a file, not a folder: pass the folder that holds the files (kubeadm's is /etc/kubernetes/manifests)"},
		{"folders", dir, []string{dir, dir}, ""},
		{"missing", filepath.Join(dir, "none"), []string{filepath.Join(dir, "none")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkFolders(tc.certDir, tc.kubeconfigDirs)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
