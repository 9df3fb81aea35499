package apirenew

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// TestTimeoutWhileGeneratingKeys: a --timeout that ends while the new
// keys are generated is reported as the timeout it is, with what to do
// (docs/renew.md: "timed out after 1ms (--timeout) ...: run again with a
// longer --timeout"), not as a bare "context deadline exceeded"; no key is
// kept and no CSR created.
func TestTimeoutWhileGeneratingKeys(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	req := ca.request(t, "admin.conf", adminProfile)
	// RSA-4096 takes long enough that the key is never ready before the
	// deadline of 1ns.
	req.KeyAlgorithm = pki.RSA4096
	is, out := newIssuer(t, cs, dir, func(o *Options) { o.Timeout = time.Nanosecond })
	err := is.Obtain(context.Background(), []renewal.Request{req})
	if err == nil || !contains(err.Error(), "timed out after 1ns (--timeout)", "admin.conf", "run again with a longer --timeout", "nothing was changed") {
		t.Fatalf("Obtain: %v\n%s", err, out)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the error does not wrap context.DeadlineExceeded: %v", err)
	}
	if n := csrCount(t, cs); n != 0 {
		t.Errorf("%d CSRs created", n)
	}
	if k, _ := is.pending.load("admin.conf"); k != nil {
		t.Error("a pending key was kept")
	}
	if _, err := os.Stat(is.pending.dir); err == nil {
		if ents, _ := os.ReadDir(is.pending.dir); len(ents) != 0 {
			t.Errorf("pending folder holds %d entries", len(ents))
		}
	}
}

// issueWrong approves CSR name and issues it a certificate of ca for
// profile p and another key than the request's: a signer that is wrong.
func issueWrong(t *testing.T, cs *fake.Clientset, name string, ca *testCA, p pki.Profile) {
	t.Helper()
	ctx := context.Background()
	csrs := cs.CertificatesV1().CertificateSigningRequests()
	got, err := csrs.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got.Status.Conditions = append(got.Status.Conditions, certv1.CertificateSigningRequestCondition{
		Type: certv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "TestReason", Message: "test message"})
	if got, err = csrs.UpdateApproval(ctx, name, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cert, err := pki.Sign(rand.Reader, p, newKey(t).Public(), ca.cert, ca.key, pki.NewValidity(time.Now(), 5*time.Minute, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got.Status.Certificate = pki.EncodeCert(cert)
	if _, err := csrs.UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestWrongCertificateSaysNewRequest: a CSR issued a certificate that
// cannot be installed (here: for another key) is refused as a failed CSR
// is, before the lock: renewal refused it under the lock, which stopped
// the install of the whole batch and noted nothing, so every later run
// got the same certificate (a CSR's never changes) and stopped again. It
// is now left out with its refusal noted, the error names the CSR and
// says what to do (only a new key and CSR, --new-request=NAME, renews
// it), the others install (an *IncompleteError: exit status 6), and the
// next run finds the refusal noted instead of waiting for it again.
func TestWrongCertificateSaysNewRequest(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile), ca.request(t, "super-admin.conf", adminProfile)}
	var csrName string
	done := whenCreated(t, cs, 2, func(name string) {
		if strings.Contains(name, "-admin.conf-") && !strings.Contains(name, "super-") {
			csrName = name
			issueWrong(t, cs, name, ca, adminProfile)
			return
		}
		decide(t, cs, name, certv1.CertificateApproved, ca)
	})
	is, out := newIssuer(t, cs, dir, func(o *Options) { o.RerunFlags = " --cert-dir /x/pki" })
	err := is.Obtain(context.Background(), reqs)
	done()
	var inc *IncompleteError
	if !errors.As(err, &inc) || !slices.Equal(inc.Obtained, []string{"super-admin.conf"}) || !slices.Equal(inc.Refused(), []string{"admin.conf"}) || !inc.NotIssued[0].Rejected {
		t.Fatalf("Obtain: %#v, want super-admin.conf obtained and admin.conf refused\n%s", err, out)
	}
	if !contains(err.Error(), "CSR "+csrName+" for admin.conf was issued a certificate that cannot be installed (pki: certificate for \"admin.conf\" refused: it does not match the private key)",
		"The certificate a CSR was issued never changes", "certctl renew admin.conf --use-api --new-request=admin.conf --cert-dir /x/pki") {
		t.Errorf("Obtain: %v", err)
	}
	if _, _, ok := is.pending.refused("admin.conf", csrName); !ok {
		t.Errorf("no refusal noted for admin.conf's CSR %s", csrName)
	}
	got, err := is.Issue(context.Background(), reqs[1:])
	if err != nil || len(got) != 1 || got[0].Cert == nil {
		t.Fatalf("Issue(super-admin.conf): %v, %v\n%s", got, err, out)
	}
	is2, out2 := newIssuer(t, cs, dir, func(o *Options) { o.Timeout = time.Minute })
	err = is2.Obtain(context.Background(), reqs[:1])
	if !errors.As(err, &inc) || !slices.Equal(inc.Refused(), []string{"admin.conf"}) || !strings.Contains(err.Error(), "in an earlier run") {
		t.Errorf("the next run: %v, want the refusal noted found\n%s", err, out2)
	}
}

// TestInterruptedExitCode: a wait stopped by a signal exits 130 (143 for
// SIGTERM), and the
// -o json summary (exitcode.Of of the command's error) said 1: the error
// carries the status, and main's AfterSignal keeps its message, which
// names the CSRs and the approve command.
func TestInterruptedExitCode(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	is, _ := newIssuer(t, cs, dir, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := whenCreated(t, cs, 1, func(string) { cancel() })
	err := is.Obtain(ctx, []renewal.Request{ca.request(t, "admin.conf", adminProfile)})
	done()
	if err == nil || !contains(err.Error(), "interrupted waiting for CSR(s) certctl-cp-1-admin.conf-") {
		t.Fatalf("Obtain: %v", err)
	}
	if got := exitcode.Of(err); got != exitcode.Interrupted {
		t.Errorf("exit status of %q: %d, want %d", err, got, exitcode.Interrupted)
	}
	for sig, want := range map[os.Signal]int{syscall.SIGINT: exitcode.Interrupted, syscall.SIGTERM: exitcode.Terminated} {
		if after := exitcode.AfterSignal(err, sig); exitcode.Of(after) != want || after.Error() != err.Error() {
			t.Errorf("after %v: %q (status %d), want %q (%d)", sig, after, exitcode.Of(after), err, want)
		}
	}
}
