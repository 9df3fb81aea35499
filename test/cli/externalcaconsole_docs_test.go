package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExternalCADocsConsole runs docs/external-ca.md's renewal step by
// step, as written: its renew --use-csr command, the CA signing the
// requests (the document's sign.sh), its certs import commands; and
// compares what certctl prints with the document (times aside, "..." for
// lines left out, and the folder flags the test adds, which certctl's
// printed commands carry).
func TestExternalCADocsConsole(t *testing.T) {
	bin := certctlBin(t)
	n := makeConfigNode(t, bin)
	sign := docSignScript(t, n.node)
	csrDir := filepath.Join(t.TempDir(), "csr-2027")
	doc := string(mustRead(t, "../../docs/external-ca.md"))
	blocks := []string{docBlockIn(t, "external-ca.md", "console", "$ sudo certctl renew all --use-csr")}
	// The import's block is indented in a list item.
	start := strings.Index(doc, "   $ sudo certctl certs import --csr-dir /root/csr-2027 --config /etc/kubernetes/kubeadm.yaml --dry-run\n")
	end := strings.Index(doc[start:], "\n   ```\n")
	if start < 0 || end < 0 {
		t.Fatal("docs/external-ca.md's certs import block has changed")
	}
	var lines []string
	for _, l := range strings.Split(doc[start:start+end], "\n") {
		lines = append(lines, strings.TrimPrefix(l, "   "))
	}
	blocks = append(blocks, strings.Join(lines, "\n"))
	for i, block := range blocks {
		block = strings.ReplaceAll(strings.ReplaceAll(block, " --config /etc/kubernetes/kubeadm.yaml", ""), "/root/csr-2027", csrDir)
		want, got := runConsole(t, bin, block, n.dir, append(n.flags(), "--cert-dir", n.certDir)...)
		checkConsole(t, "external-ca.md", want, got)
		if i == 0 {
			sign(csrDir)
		}
	}
}
