package renew

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// TestLeaseWaitLineSaysWhatIsTrue: the line of a node waiting for a
// restart Lease says what its holder does. A holder whose restart failed
// left the Lease to expire: the line says so, and when it expires; one
// that stopped renewing it (killed, or cut off from the API server) is
// said to have stopped. Only a holder that renews it "restarts" its
// component. Before, every holder was one "which restarts its etcd".
func TestLeaseWaitLineSaysWhatIsTrue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	cs := leaseClient()
	var outA, outB bytes.Buffer
	a, b := testLease(cs, "cp-1", &outA), testLease(cs, "cp-2", &outB)
	a.duration = time.Second
	release, err := a.acquire(ctx, "etcd", "etcd")
	if err != nil {
		t.Fatal(err)
	}
	release(false)
	if _, err := b.acquire(ctx, "etcd", "etcd"); err != nil {
		t.Fatal(err)
	}
	if got := outB.String(); strings.Contains(got, "which restarts") || !strings.Contains(got, "[restart] etcd: waiting for the Lease kube-system/certctl-restart-etcd to expire at ") ||
		!strings.Contains(got, ": cp-1's restart of its etcd failed, and it left the Lease to expire so that no other node restarts its etcd before then\n") {
		t.Errorf("waiting for a holder whose restart failed:\n%s", got)
	}
	l, err := cs.CoordinationV1().Leases("kube-system").Get(ctx, "certctl-restart-etcd", metav1.GetOptions{})
	if err != nil || l.Annotations["certctl.io/restart-failed"] != "" {
		t.Errorf("the Lease taken over still says the restart failed: %v, %v", l.Annotations, err)
	}

	// A holder that stopped renewing, 1.5s ago, a Lease of 2s.
	cs = leaseClient()
	renewed := metav1.NewMicroTime(time.Now().Add(-1500 * time.Millisecond))
	if _, err := cs.CoordinationV1().Leases("kube-system").Create(ctx, &coordv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "certctl-restart-kube-apiserver", Namespace: "kube-system"},
		Spec: coordv1.LeaseSpec{HolderIdentity: ptr.To("cp-3_0a0b0c0d"), LeaseDurationSeconds: ptr.To[int32](2), RenewTime: &renewed}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var outC bytes.Buffer
	if _, err := testLease(cs, "cp-2", &outC).acquire(ctx, "kube-apiserver", "kube-apiserver"); err != nil {
		t.Fatal(err)
	}
	want := "[restart] kube-apiserver: waiting for the Lease kube-system/certctl-restart-kube-apiserver, held by cp-3_0a0b0c0d, which has not renewed it since " + renewed.UTC().Format(time.RFC3339) +
		" (stopped, or cut off from the API server): it expires at "
	if got := outC.String(); strings.Contains(got, "which restarts") || !strings.Contains(got, want) {
		t.Errorf("waiting for a holder that stopped renewing: want %q in\n%s", want, got)
	}
}
