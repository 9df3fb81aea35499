package apirenew

import (
	"context"
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// TestCorruptPendingKey: a pending key that cannot be parsed fails the run
// with what to do; with --new-request it is replaced by a new key, for a
// new CSR.
func TestCorruptPendingKey(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	p := pki.Profile{CommonName: "front-proxy-client", ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	reqs := []renewal.Request{ca.request(t, "front-proxy-client", p)}
	is, _ := newIssuer(t, cs, dir, nil)
	if err := os.MkdirAll(is.pending.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := is.pending.path("front-proxy-client")
	if err := os.WriteFile(path, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := is.Obtain(context.Background(), reqs)
	if err == nil || !contains(err.Error(), "parse private key "+path, "run again with --new-request=front-proxy-client for a new key and CSR, or remove it") {
		t.Fatalf("Obtain: %v", err)
	}
	if n := csrCount(t, cs); n != 0 {
		t.Errorf("%d CSRs created", n)
	}

	is, out := newIssuer(t, cs, dir, func(o *Options) { o.NewRequest = true })
	done := whenCreated(t, cs, 1, func(n string) { decide(t, cs, n, certv1.CertificateApproved, ca) })
	got, err := is.Issue(context.Background(), reqs)
	done()
	if err != nil {
		t.Fatalf("--new-request: %v\n%s", err, out)
	}
	k, err := is.pending.load("front-proxy-client")
	if err != nil || k == nil || !pki.SamePublicKey(k.Public(), got[0].Cert.PublicKey) {
		t.Errorf("pending key after --new-request: %v, %v; want the new CSR's key", k, err)
	}
	if !contains(out.String(), "replacing the pending key with a new key and CSR (--new-request)", "new key in "+path) {
		t.Errorf("output:\n%s", out)
	}
}

// TestResumedState: the line of a resumed CSR says what the CSR says, and
// only the CSRs that need an approval are in the approval commands.
func TestResumedState(t *testing.T) {
	ca := newTestCA(t)
	for _, tc := range []struct {
		name     string
		change   func(t *testing.T, cs *fake.Clientset, name string)
		want     string
		approval bool
		err      string
	}{
		{"pending", func(*testing.T, *fake.Clientset, string) {}, "pending approval", true, "timed out"},
		{"failed", func(t *testing.T, cs *fake.Clientset, name string) {
			decide(t, cs, name, certv1.CertificateFailed, nil)
		},
			`failed: the signer kubernetes.io/kube-apiserver-client refused it (reason "TestReason": test message): renew it with --new-request=admin.conf`, false, "failed: the signer"},
		{"approved", func(t *testing.T, cs *fake.Clientset, name string) {
			decide(t, cs, name, certv1.CertificateApproved, nil)
		},
			"approved already, not issued yet", false, "was approved but signer kubernetes.io/kube-apiserver-client has not issued it"},
		{"deleted", func(t *testing.T, cs *fake.Clientset, name string) {
			if err := cs.CertificatesV1().CertificateSigningRequests().Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}, "created again: needs a new approval", true, "timed out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, dir := fakeClient(), t.TempDir()
			reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile)}
			short := func(o *Options) { o.Timeout = 300 * time.Millisecond }
			is, _ := newIssuer(t, cs, dir, short)
			if err := is.Obtain(context.Background(), reqs); err == nil {
				t.Fatal("first run: no timeout")
			}
			key, _ := is.pending.load("admin.conf")
			name, _ := CSRName("cp-1", "admin.conf", key.Public())
			tc.change(t, cs, name)

			is, out := newIssuer(t, cs, dir, short)
			err := is.Obtain(context.Background(), reqs)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("second run: %v, want %q", err, tc.err)
			}
			line := "CSR " + name + " for admin.conf: signer kubernetes.io/kube-apiserver-client (resumed with the pending key " + is.pending.path("admin.conf") + ", " + tc.want + ")"
			if !strings.Contains(out.String(), line) || strings.Contains(out.String(), "certctl approve --all-from-node cp-1") != tc.approval {
				t.Errorf("output, want %q and approval instructions %v:\n%s", line, tc.approval, out)
			}
		})
	}
}

// TestApproveCommandSystemMasters: the one approval command, for every
// CSR of the run, has --allow-system-masters when a certificate has
// O=system:masters (super-admin.conf): `certctl approve` needs it for it.
func TestApproveCommandSystemMasters(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	masters := pki.Profile{CommonName: "kubernetes-super-admin", Organization: []string{pki.MastersGroup}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	is, out := newIssuer(t, cs, dir, func(o *Options) { o.ApproveFlags = " --config kubeadm.yaml" })
	done := whenCreated(t, cs, 2, func(n string) { decide(t, cs, n, certv1.CertificateApproved, ca) })
	if err := is.Obtain(context.Background(), []renewal.Request{ca.request(t, "super-admin.conf", masters), ca.request(t, "admin.conf", adminProfile)}); err != nil {
		t.Fatal(err)
	}
	done()
	if want := "\n  certctl approve --all-from-node cp-1 --config kubeadm.yaml --allow-system-masters\n"; strings.Count(out.String(), want) != 1 || strings.Count(out.String(), "certctl approve") != 1 {
		t.Errorf("output, want one approval command %q:\n%s", want, out)
	}
}
