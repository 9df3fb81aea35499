package external

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportKeyWithoutCSR: `renew all --use-csr` killed between a key and
// its CSR leaves the key alone. certs import installed the others, exited
// 0 and never named that certificate, which then was never renewed (and
// its component missed from the restart advice). It is now refused, with
// the command that makes its CSR again.
func TestImportKeyWithoutCSR(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "all")
	for _, f := range []string{"etcd/peer.csr", "etcd/peer" + ".request.json"} {
		if err := os.Remove(filepath.Join(n.csrDir, filepath.FromSlash(f))); err != nil {
			t.Fatal(err)
		}
	}
	n.signAll(t)
	res, err := Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 10 || len(res.Refused) != 1 {
		t.Fatalf("imported %d, refused %v: want 10 and etcd-peer", len(res.Imported), res.Refused)
	}
	r := res.Refused[0]
	key := filepath.Join(n.csrDir, "etcd", "peer.key")
	if r.Name != "etcd-peer" || !strings.Contains(r.Reason, key) || !strings.Contains(r.Reason, "certctl renew etcd-peer --use-csr --csr-dir") {
		t.Errorf("refused %+v, want etcd-peer naming %s and the command that makes its CSR again", r, key)
	}
}
