package e2e

import (
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/internal/testcluster"
)

// TestUseAPIWaitSaysAPIServerDown: kube-apiserver stops while `renew
// --use-api` waits. certctl goes on waiting, and its progress lines say
// that the API server at its URL does not answer (the states are as last
// seen), instead of only "pending approval" for the whole --timeout. Once
// kube-apiserver is back, the approval reaches the wait and the
// certificate is installed. One cluster, ~30 s.
func TestUseAPIWaitSaysAPIServerDown(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 4*time.Minute)
	r := startRenew(t, ctx, c, "scheduler.conf", "--use-api", "--timeout", "3m")
	l := r.nextCSR(t, ctx)
	<-r.waiting
	if err := c.StopComponent(ctx, testcluster.APIServer); err != nil {
		t.Fatal(err)
	}
	said := "has not answered for"
	for deadline := time.Now().Add(45 * time.Second); !strings.Contains(r.output(), said); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no line says that the API server does not answer after 45 s:\n%s", r.output())
		}
	}
	if !strings.Contains(r.output(), "[renew] The API server at "+c.URL(testcluster.APIServer)) {
		t.Errorf("the line does not name the API server %s:\n%s", c.URL(testcluster.APIServer), r.output())
	}
	if err := c.StartComponent(ctx, testcluster.APIServer); err != nil {
		t.Fatal(err)
	}
	cs, err := c.SuperAdminClient()
	if err != nil {
		t.Fatal(err)
	}
	setCondition(t, ctx, cs, l.name, certv1.CertificateApproved, "E2ETest", "approved after the API server came back")
	out, code := r.wait(t)
	if code != 0 || !strings.Contains(out, "scheduler.conf renewed") {
		t.Fatalf("exit status %d, want 0 and scheduler.conf renewed", code)
	}
}
