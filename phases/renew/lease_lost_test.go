package renew

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// TestRestartLeaseLostWhileHeld: a holder whose Lease another node took
// over while it restarted (its renewals did not reach the API server for
// the Lease's duration) says so when it releases it, naming that node:
// the two restarts may have overlapped. It neither frees nor marks the
// other node's Lease. Before, it said nothing of it, and its release
// warned that "the other nodes wait until it expires", which they did not.
func TestRestartLeaseLostWhileHeld(t *testing.T) {
	for _, ok := range []bool{true, false} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cs := leaseClient()
		var out bytes.Buffer
		a := testLease(cs, "cp-1_0a0b0c0d", &out)
		a.duration = 400 * time.Millisecond // renewed every 100ms
		release, err := a.acquire(ctx, "etcd", "etcd")
		if err != nil {
			t.Fatal(err)
		}
		// cp-2 takes it over, as after 60s without a renewal.
		leases := cs.CoordinationV1().Leases("kube-system")
		l, err := leases.Get(ctx, "certctl-restart-etcd", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		l.Spec.HolderIdentity = ptr.To("cp-2_71f7fffe")
		if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // a renewal or more
		release(ok)
		want := "[warning] etcd: cp-2_71f7fffe took the Lease kube-system/certctl-restart-etcd over while this node restarted its etcd, as this node could not renew it (cut off from the API server): cp-2_71f7fffe may have restarted its etcd at the same time\n"
		if got := out.String(); !strings.Contains(got, want) || strings.Contains(got, "the other nodes wait") || strings.Contains(got, "left to expire") {
			t.Errorf("restart ok %v: want %q, and no word of the others waiting, in\n%s", ok, want, got)
		}
		l, err = leases.Get(ctx, "certctl-restart-etcd", metav1.GetOptions{})
		if err != nil || ptr.Deref(l.Spec.HolderIdentity, "") != "cp-2_71f7fffe" || l.Annotations[leaseFailedAnnotation] != "" {
			t.Errorf("restart ok %v: cp-2's Lease after cp-1's release: %+v, %v", ok, l, err)
		}
	}
}
