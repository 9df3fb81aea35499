package cmd

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestCertsUploadKubeconfigDir: certs upload finds admin.conf in
// --kubeconfig-dir, as download, renew --use-api and ca rotate do; it
// looked in /etc/kubernetes whatever the node's layout.
func TestCertsUploadKubeconfigDir(t *testing.T) {
	node := t.TempDir()
	certDir := filepath.Join(node, "pki")
	if _, _, err := execute(t, "init-phase", "certs", "all", "--cert-dir", certDir); err != nil {
		t.Fatal(err)
	}
	// Port 1 refuses connections: the error shows which server was asked.
	if _, _, err := execute(t, "init-phase", "kubeconfig", "admin", "--cert-dir", certDir, "--kubeconfig-dir", node, "--control-plane-endpoint", "127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, node)
	_, _, err := execute(t, "certs", "upload", "--certificate-key", strings.Repeat("ab", 32), "--cert-dir", certDir, "--kubeconfig-dir", node)
	treetest.ErrMentions(t, err, "https://127.0.0.1:1/", "nothing was changed")
	treetest.AssertSame(t, before, treetest.Snapshot(t, node))
}
