package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestFullLinkedCertDir: a node whose /etc/kubernetes/pki is a link to a
// folder on another, full, file system (a data disk). A renewal used to
// stage its files beside /etc/kubernetes, commit, then copy them over
// the link and fail there with the change committed: every later command
// failed until space was freed. It now fails before its commit point,
// saying nothing was changed and where space is missing, with every
// certificate and key as it was and nothing left behind; once space is
// freed, the same renewal works.
func TestFullLinkedCertDir(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	mnt := treetest.SmallFS(t, 1<<20)
	real := filepath.Join(mnt, "pki")
	if out, err := exec.Command("mv", n.certDir, real).CombinedOutput(); err != nil {
		t.Fatalf("move the certificate folder: %v: %s", err, out)
	}
	if err := os.Symlink(real, n.certDir); err != nil {
		t.Fatal(err)
	}
	treetest.Fill(t, mnt)
	before := treetest.Snapshot(t, mnt)
	code, out, errOut := runAll(t, nil, bin, append([]string{"renew", "all"}, n.flags()...)...)
	if code != 1 || !strings.Contains(errOut, "nothing was changed") || !strings.Contains(errOut, "no space left") ||
		!strings.Contains(errOut, "in "+n.certDir+" ("+real+")") || strings.Contains(errOut, "committed") {
		t.Errorf("renew all with a full linked certificate folder: exit %d, want 1 saying nothing was changed and that %s (%s) is full\n%s%s", code, n.certDir, real, out, errOut)
	}
	// Only the lock beside the real folder (linked folders are locked
	// under both names) may be new; the certificates and keys may not
	// change.
	after := treetest.Snapshot(t, mnt)
	delete(after, filepath.Join(mnt, ".certctl.lock"))
	treetest.AssertSame(t, before, after)
	for _, p := range []string{".certctl-txn", "certctl-backups"} {
		if _, err := os.Lstat(filepath.Join(n.dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s left beside the certificate folder (err %v)", p, err)
		}
	}
	if err := os.Remove(filepath.Join(mnt, "fill")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runAll(t, nil, bin, append([]string{"renew", "all"}, n.flags()...)...)
	if code != 0 || strings.Contains(errOut, "[recover]") {
		t.Fatalf("renew all once space was freed: exit %d, want 0 with nothing to recover\n%s%s", code, out, errOut)
	}
	after = treetest.Snapshot(t, mnt)
	for _, name := range []string{"apiserver.key", "apiserver.crt", "etcd/server.key"} {
		if p := filepath.Join(real, name); after[p] == before[p] {
			t.Errorf("%s was not renewed", p)
		}
	}
}
