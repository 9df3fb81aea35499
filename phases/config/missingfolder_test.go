package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMissingFolder(t *testing.T) {
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	if err := os.Mkdir(pki, 0o700); err != nil {
		t.Fatal(err)
	}
	typo := filepath.Join(dir, "typo")
	// An unmounted volume: the folder is a link to a target not there.
	unmounted := filepath.Join(dir, "unmounted")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(unmounted, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name               string
		certDir, kubeconfs string
		want               []string // nil: no error
	}{
		{"both there", pki, dir, nil},
		{"no kubeconfig folder given", pki, "", nil},
		{"certificate folder missing", typo, dir, []string{"certificate folder " + typo + " does not exist", "--cert-dir", "/etc/kubernetes/pki"}},
		{"kubeconfig folder missing", pki, typo, []string{"kubeconfig folder " + typo + " does not exist", "--kubeconfig-dir", "(kubeadm's is /etc/kubernetes)"}},
		{"certificate folder a link to a missing target", link, dir, []string{"certificate folder " + link + " is a symbolic link to " + unmounted + ", which does not exist", "mount the volume", "--cert-dir"}},
		{"kubeconfig folder a link to a missing target", pki, link, []string{"kubeconfig folder " + link + " is a symbolic link to " + unmounted + ", which does not exist", "--kubeconfig-dir"}},
		{"both missing: the certificate folder first", typo, typo + "2", []string{"certificate folder " + typo + " "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := MissingFolder(tt.certDir, tt.kubeconfs)
			if (err != nil) != (tt.want != nil) {
				t.Fatalf("MissingFolder(%s, %s) = %v", tt.certDir, tt.kubeconfs, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q: %v", w, err)
				}
			}
		})
	}
}
