package apirenew

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	certv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// nodeRun is one `certctl renew NAMES --use-api` on node n, up to its
// Obtain: the caller then takes certctl's lock and calls renew.
type nodeRun struct {
	is   *Issuer
	out  *syncBuffer
	opts renewal.Options
	sel  []renewal.Target
}

var errNothingToDo = errors.New("nothing to do (test status)")

func startNodeRun(t *testing.T, n *pkitest.Node, cs *fake.Clientset, ca *testCA, names ...string) *nodeRun {
	t.Helper()
	sel, err := renewal.Select(pki.Kubeadm(), names, n.Cluster.ExternalEtcd)
	if err != nil {
		t.Fatal(err)
	}
	pendingDir, err := PendingDir(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	is, out := newIssuer(t, cs, t.TempDir(), func(o *Options) { o.PendingDir = pendingDir; o.AlreadyInstalled = errNothingToDo })
	r := &nodeRun{is: is, out: out, sel: sel, opts: renewal.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Rand: rand.Reader, Issuer: is}}
	reqs, err := renewal.Requests(sel, r.opts)
	if err != nil {
		t.Fatal(err)
	}
	// Each CSR this run creates is approved and issued; one it resumes
	// is issued already.
	if err := is.Obtain(context.Background(), reqs); err != nil {
		t.Fatalf("Obtain %v: %v\n%s", names, err, out)
	}
	return r
}

// renew is the rest of the run, under the lock: renewal.Renew, then
// Installed.
func (r *nodeRun) renew() (*renewal.Result, error) {
	res, err := renewal.Renew(context.Background(), r.sel, r.opts)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, x := range res.Renewed {
		names = append(names, x.Name)
	}
	return res, r.is.Installed(names)
}

// TestTwoRunsInstallOnce: two runs of the same command wait on the same
// CSRs and get the same certificates; the first to get the lock installs
// them, the second finds them installed and changes nothing: no second
// backup (which would hold the new certificates), no error but its
// AlreadyInstalled status.
func TestTwoRunsInstallOnce(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cs, ca := fakeClient(), nodeCA(t, n)
	approve := whenCreated(t, cs, 2, func(name string) { decide(t, cs, name, certv1.CertificateApproved, ca) })
	first := startNodeRun(t, n, cs, ca, "admin.conf", "apiserver-kubelet-client")
	approve()
	second := startNodeRun(t, n, cs, ca, "admin.conf", "apiserver-kubelet-client")
	if c := csrCount(t, cs); c != 2 || !strings.Contains(second.out.String(), "resumed with the pending key") {
		t.Fatalf("%d CSRs; the second run did not resume the first's:\n%s", c, second.out)
	}

	res, err := first.renew()
	if err != nil || len(res.Renewed) != 2 || res.BackupDir == "" {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	before := treetest.Snapshot(t, n.Dir)
	if _, err := second.renew(); err != errNothingToDo {
		t.Fatalf("second run: %v, want the AlreadyInstalled status", err)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	backups, err := renewal.ListBackups(filepath.Dir(res.BackupDir))
	if err != nil || len(backups) != 1 {
		t.Errorf("%d backups (%v), want the first run's only", len(backups), err)
	}
	for _, name := range []string{"admin.conf", "apiserver-kubelet-client"} {
		if !strings.Contains(second.out.String(), "[skip] "+name+": renewed by another certctl while this one waited for the lock (the certificate of CSR certctl-cp-1-"+name+"-") {
			t.Errorf("second run's output lacks %s:\n%s", name, second.out)
		}
	}
}

// TestOtherRunInstalledSome: when another run installed only some of the
// certificates (it renewed fewer), nothing is changed and the error names
// both and says what to run.
func TestOtherRunInstalledSome(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cs, ca := fakeClient(), nodeCA(t, n)
	approve := whenCreated(t, cs, 2, func(name string) { decide(t, cs, name, certv1.CertificateApproved, ca) })
	both := startNodeRun(t, n, cs, ca, "admin.conf", "apiserver-kubelet-client")
	approve()
	one := startNodeRun(t, n, cs, ca, "admin.conf")
	if _, err := one.renew(); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, n.Dir)
	_, err := both.renew()
	if err == nil || !contains(err.Error(), "admin.conf: installed by another certctl while this one waited for the lock, but not apiserver-kubelet-client",
		"nothing was changed", "again with only apiserver-kubelet-client") {
		t.Fatalf("second run: %v", err)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	// Its pending key is kept, for the run it asks for.
	if k, _ := both.is.pending.load("apiserver-kubelet-client"); k == nil {
		t.Error("the pending key of the certificate not installed was removed")
	}
}

// nodeCA is n's cluster CA, which signs the CSRs.
func nodeCA(t *testing.T, n *pkitest.Node) *testCA {
	t.Helper()
	s := pki.Store{Dir: n.CertDir()}
	cert, _, err := s.ReadCert(pki.CAName)
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.ReadKey(pki.CAName)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}
