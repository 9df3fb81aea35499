package apirenew

import (
	"context"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/phases/renewal"
)

// TestRefusedBetweenRuns: CSRs denied while no run waited for them
// (`certctl deny --all-from-node` after an interrupted run), then the same
// command again. Before, the rerun printed for the first CSR "was denied
// ...: it will not be installed; the others go on" before any CSR line,
// although the other CSR was denied too and nothing was waited for: the
// other jobs were not created yet when the line was printed. Each resumed
// CSR's own line says it was denied and what to run.
func TestRefusedBetweenRuns(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile), ca.request(t, "super-admin.conf", adminProfile)}
	short := func(o *Options) { o.Timeout = 300 * time.Millisecond }
	is, _ := newIssuer(t, cs, dir, short)
	if err := is.Obtain(context.Background(), reqs); err == nil {
		t.Fatal("first run: no timeout")
	}
	for _, c := range certctlCSRNames(t, is) {
		decide(t, cs, c, certv1.CertificateDenied, nil)
	}
	is, out := newIssuer(t, cs, dir, short)
	err := is.Obtain(context.Background(), reqs)
	if err == nil || !strings.Contains(err.Error(), "was denied") {
		t.Fatalf("second run: %v, want the denials", err)
	}
	if strings.Contains(out.String(), "the others go on") {
		t.Errorf("second run says the others go on, though every CSR was denied:\n%s", out)
	}
	for _, r := range reqs {
		if want := "(resumed with the pending key " + is.pending.path(r.Name) + `, denied (reason "TestReason": test message): renew it with --new-request=` + r.Name + ")"; !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The denials are noted: a third run says "in an earlier run".
	is, _ = newIssuer(t, cs, dir, short)
	if err := is.Obtain(context.Background(), reqs); err == nil || !strings.Contains(err.Error(), "in an earlier run") {
		t.Errorf("third run: %v, want the denials of an earlier run", err)
	}
}

// certctlCSRNames are the names of the CSRs of is's pending keys.
func certctlCSRNames(t *testing.T, is *Issuer) []string {
	t.Helper()
	var out []string
	for _, n := range []string{"admin.conf", "super-admin.conf"} {
		k, err := is.pending.load(n)
		if err != nil || k == nil {
			t.Fatalf("pending key of %s: %v", n, err)
		}
		name, err := CSRName("cp-1", n, k.Public())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, name)
	}
	return out
}

// TestConditionWithoutMessage: `certctl deny --reason R` sets no message;
// the denial then reads (reason "R"), not (reason "R": ).
func TestConditionWithoutMessage(t *testing.T) {
	j := &job{signer: "certctl.io/etcd-server"}
	for typ, want := range map[certv1.RequestConditionType]string{
		certv1.CertificateDenied: `was denied (reason "NotToday")`,
		certv1.CertificateFailed: `failed: the signer certctl.io/etcd-server refused it (reason "NotToday")`,
	} {
		c := &certv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "x"}}
		c.Status.Conditions = []certv1.CertificateSigningRequestCondition{{Type: typ, Status: corev1.ConditionTrue, Reason: "NotToday"}}
		if _, why := phaseOf(j, c); why != want {
			t.Errorf("%s without a message: %q, want %q", typ, why, want)
		}
	}
}
