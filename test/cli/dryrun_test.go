package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestRenewDryRunCLI: `renew all --dry-run` (and `restore --dry-run`) lists what would be renewed and
// by which issuer, and leaves the node's tree byte-identical: no key, CSR,
// backup or lock file.
func TestRenewDryRunCLI(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	if err := os.Mkdir(n.dir+"/manifests", 0o755); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, n.dir)
	out := run(t, bin, append([]string{"renew", "all", "--dry-run", "--restart-control-plane", "--manifest-dir", n.dir + "/manifests"}, n.flags()...)...)
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.dir))
	for _, w := range []string{"[dry-run] apiserver would be renewed: ", "from the CA " + n.certDir + "/ca.crt", "[dry-run] admin.conf would be renewed", "11 certificate(s) would be renewed; nothing was written"} {
		if !strings.Contains(out, w) {
			t.Errorf("renew all --dry-run lacks %q:\n%s", w, out)
		}
	}
	csrDir := t.TempDir() + "/csr"
	out = run(t, bin, append([]string{"renew", "all", "--dry-run", "--use-csr", "--csr-dir", csrDir}, n.flags()...)...)
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.dir))
	if !strings.Contains(out, "from CSR files in "+csrDir) {
		t.Errorf("renew all --dry-run --use-csr:\n%s", out)
	}

	// restore --dry-run: what a restore would write back, writing nothing.
	run(t, bin, append([]string{"renew", "apiserver"}, n.flags()...)...)
	before = treetest.Snapshot(t, n.dir)
	out = run(t, bin, append([]string{"restore", "latest", "--dry-run"}, n.flags()...)...)
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.dir))
	if !strings.Contains(out, n.certDir+"/apiserver.crt would be restored from") || !strings.Contains(out, "2 file(s) would be restored; nothing was written") {
		t.Errorf("restore latest --dry-run:\n%s", out)
	}
}
