package apirenew

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// TestPartialInstall is a batch where one CSR is denied, as
// phases/renew runs it: Obtain reports the denied one and keeps the
// others, which renewal installs (with a backup) when given only their
// targets; the denied certificate is untouched. The same command again
// reports the refusal at once, without a wait or a new CSR; with
// --new-request=NAME (NewRequestFor) it makes a new key and CSR for that
// one only.
func TestPartialInstall(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cs, ca := fakeClient(), nodeCA(t, n)
	names := []string{"admin.conf", "apiserver-kubelet-client", "controller-manager.conf"}
	sel, err := renewal.Select(pki.Kubeadm(), names, n.Cluster.ExternalEtcd)
	if err != nil {
		t.Fatal(err)
	}
	pendingDir, err := PendingDir(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	run := func(change func(o *Options)) (*Issuer, *syncBuffer, renewal.Options, []renewal.Request) {
		is, out := newIssuer(t, cs, t.TempDir(), func(o *Options) {
			o.PendingDir, o.RerunFlags, o.ApproveKubeconfig = pendingDir, " --kubeconfig-dir /srv/k8s", " --kubeconfig /srv/k8s/admin.conf"
			if change != nil {
				change(o)
			}
		})
		opts := renewal.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Rand: rand.Reader, Issuer: is}
		reqs, err := renewal.Requests(sel, opts)
		if err != nil {
			t.Fatal(err)
		}
		return is, out, opts, reqs
	}
	current := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(sel[slices.IndexFunc(sel, func(s renewal.Target) bool { return s.Name == name })].File(n.CertDir(), n.Dir))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	before := map[string][]byte{}
	for _, name := range names {
		before[name] = current(name)
	}

	is, out, opts, reqs := run(nil)
	answer := whenCreated(t, cs, 3, func(csr string) {
		if strings.Contains(csr, "-controller-manager.conf-") {
			decide(t, cs, csr, certv1.CertificateDenied, nil)
			return
		}
		decide(t, cs, csr, certv1.CertificateApproved, ca)
	})
	err = is.Obtain(context.Background(), reqs)
	answer()
	var inc *IncompleteError
	if !errors.As(err, &inc) || !slices.Equal(slices.Sorted(slices.Values(inc.Obtained)), names[:2]) || !slices.Equal(inc.Refused(), names[2:]) ||
		!contains(err.Error(), "for controller-manager.conf was denied", "certctl renew controller-manager.conf --use-api --new-request=controller-manager.conf --kubeconfig-dir /srv/k8s") {
		t.Fatalf("Obtain: %v\n%s", err, out)
	}
	if !contains(out.String(), "kubectl certificate approve certctl-cp-1-", "-controller-manager.conf-", " --kubeconfig /srv/k8s/admin.conf\n", "  certctl approve --all-from-node cp-1 --kubeconfig /srv/k8s/admin.conf\n") {
		t.Errorf("approve command without the kubeconfig renew used:\n%s", out)
	}
	// What phases/renew does: install the targets obtained.
	var got []renewal.Target
	for _, s := range sel {
		if slices.Contains(inc.Obtained, s.Name) {
			got = append(got, s)
		}
	}
	res, err := renewal.Renew(context.Background(), got, opts)
	if err != nil || len(res.Renewed) != 2 || res.BackupDir == "" {
		t.Fatalf("Renew of the certificates issued: %+v, %v", res, err)
	}
	if err := is.Installed(inc.Obtained); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if changed := !slices.Equal(before[name], current(name)); changed != (name != "controller-manager.conf") {
			t.Errorf("%s changed: %v", name, changed)
		}
	}

	// The same command again: the denial is known, no wait, no CSR.
	is, out, _, reqs = run(func(o *Options) { o.Timeout = time.Minute })
	count := csrCount(t, cs)
	start := time.Now()
	err = is.Obtain(context.Background(), reqs[2:])
	if !errors.As(err, &inc) || len(inc.Obtained) != 0 || !contains(err.Error(), "in an earlier run", "--new-request=controller-manager.conf") || time.Since(start) > 5*time.Second {
		t.Fatalf("re-run: %v after %v\n%s", err, time.Since(start), out)
	}
	if c := csrCount(t, cs); c != count {
		t.Errorf("re-run created %d CSR(s)", c-count)
	}

	// --new-request=controller-manager.conf: one new CSR, for it only.
	is, out, opts, reqs = run(func(o *Options) { o.NewRequestFor = []string{"controller-manager.conf"} })
	approve := whenCreated(t, cs, 1, func(csr string) { decide(t, cs, csr, certv1.CertificateApproved, ca) })
	if err := is.Obtain(context.Background(), reqs[2:]); err != nil {
		t.Fatalf("--new-request=controller-manager.conf: %v\n%s", err, out)
	}
	approve()
	if c := csrCount(t, cs); c != count+1 {
		t.Errorf("--new-request=controller-manager.conf created %d CSR(s), want 1", c-count)
	}
	if _, err := renewal.Renew(context.Background(), sel[2:], opts); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(before["controller-manager.conf"], current("controller-manager.conf")) {
		t.Error("controller-manager.conf not renewed after --new-request")
	}
}
