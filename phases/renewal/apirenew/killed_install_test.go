package apirenew

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases/renewal"
)

// TestKilledAfterInstallLeavesNoPendingKey: a run killed right after its
// install committed, before Installed, left in the pending-key folder a
// copy of each private key it had just put in use, until the next renew
// run found it (Stale). The install's transaction now removes them
// (Issued.Remove): after it, and after the recovery any next command
// runs, no pending key of an installed certificate remains; a pending key
// of a certificate not in the run stays.
func TestKilledAfterInstallLeavesNoPendingKey(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cs, ca := fakeClient(), nodeCA(t, n)
	approve := whenCreated(t, cs, 2, func(name string) { decide(t, cs, name, certv1.CertificateApproved, ca) })
	r := startNodeRun(t, n, cs, ca, "admin.conf", "apiserver-kubelet-client")
	approve()
	dir, err := PendingDir(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "front-proxy-client.key")
	if err := os.WriteFile(other, []byte("a CSR still waiting"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The run, killed once Renew has committed: no Installed.
	res, err := renewal.Renew(t.Context(), r.sel, r.opts)
	if err != nil || len(res.Renewed) != 2 {
		t.Fatalf("Renew: %+v, %v\n%s", res, err, r.out)
	}
	root, err := txn.Root(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := txn.RecoverIn(root, txn.Scope{Folders: []string{n.CertDir(), n.Dir, dir}}); err != nil {
		t.Fatal(err)
	}
	for _, rn := range res.Renewed {
		if _, err := os.Stat(filepath.Join(dir, rn.Name+".key")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the pending key of %s, whose certificate is installed, is still there (err %v)", rn.Name, err)
		}
	}
	if found := (Stale{PendingDir: dir, CertDir: n.CertDir(), KubeconfigDir: n.Dir}).Find(); len(found) > 0 {
		t.Errorf("stale pending keys after the install: %v", found)
	}
	if data, err := os.ReadFile(other); string(data) != "a CSR still waiting" {
		t.Errorf("the pending key of a certificate not renewed was changed: %q, %v", data, err)
	}
}
