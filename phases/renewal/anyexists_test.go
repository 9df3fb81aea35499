package renewal

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestCheckAnyExists: `renew all` on folders that hold none of its files
// names both folders; one that is a symbolic link to nothing (a volume
// not mounted) is named as such, with its target, as phases/node and
// config.MissingFolder name it, instead of "none of the 11 ... exists".
func TestCheckAnyExists(t *testing.T) {
	dir := t.TempDir()
	empty, link := filepath.Join(dir, "empty"), filepath.Join(dir, "pki")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), link); err != nil {
		t.Fatal(err)
	}
	targets := Targets(pki.Kubeadm(), false)
	for _, tc := range []struct {
		name, certDir, kubeconfigDir string
		wants                        []string
	}{
		{"empty folders", empty, empty, []string{"none of the 11 certificates and kubeconfig files to renew exists in " + empty + " or " + empty}},
		{"certificate folder linked to nothing", link, empty, []string{"the certificate folder " + link + " is a symbolic link to " + filepath.Join(dir, "gone") + ", which does not exist", "mount the volume"}},
		{"kubeconfig folder linked to nothing", empty, link, []string{"the kubeconfig folder " + link + " is a symbolic link to", "mount the volume"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			treetest.ErrMentions(t, CheckAnyExists(targets, tc.certDir, tc.kubeconfigDir), tc.wants...)
		})
	}
}
