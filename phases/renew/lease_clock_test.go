package renew

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/certctl/certctl/internal/treetest"
)

// newFakeClock is the Lease tests' clock, which moves only when it sleeps.
func newFakeClock() *treetest.StepClock {
	return treetest.NewStepClock(time.Date(2026, 12, 4, 11, 22, 0, 0, time.UTC))
}

// clockLease is testLease with the fake clock and the production
// timings: a Lease of 60s, waited for 15 minutes, polled every second,
// a progress line every 10 seconds.
func clockLease(cs *fake.Clientset, id string, clk *treetest.StepClock, out *bytes.Buffer) *restartLease {
	l := testLease(cs, id, out)
	l.duration, l.wait, l.poll, l.every = DefaultLeaseDuration, DefaultLeaseWait, time.Second, 10*time.Second
	l.now, l.sleep = clk.Now, clk.Sleep
	l.node, _, _ = strings.Cut(id, "_")
	return l
}

var leasesGVR = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}

// heldLease makes component's restart Lease with spec, as another node
// left it.
func heldLease(t *testing.T, cs *fake.Clientset, component string, spec coordv1.LeaseSpec) {
	t.Helper()
	l := &coordv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: RestartLeasePrefix + component, Namespace: "kube-system"}, Spec: spec}
	if _, err := cs.CoordinationV1().Leases("kube-system").Create(context.Background(), l, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// renewing makes the holder of component's Lease a live one: it renews it,
// by clk, before every read of another node.
func renewing(cs *fake.Clientset, component string, clk *treetest.StepClock) {
	cs.PrependReactor("get", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.(k8stesting.GetAction).GetName() != RestartLeasePrefix+component {
			return false, nil, nil
		}
		o, err := cs.Tracker().Get(leasesGVR, "kube-system", RestartLeasePrefix+component)
		if err != nil {
			return false, nil, nil
		}
		l := o.(*coordv1.Lease).DeepCopy()
		l.Spec.RenewTime = ptr.To(metav1.NewMicroTime(clk.Now()))
		_ = cs.Tracker().Update(leasesGVR, l, "kube-system")
		return false, nil, nil
	})
}

// TestRestartLeaseWaitsByItsClock: the wait for another node's restart
// Lease is measured by the clock the run is given, as the expiry of that
// Lease is. Before, the wait and its progress lines read the wall clock
// while the expiry read the given one: with a clock that moves only when
// the run sleeps, a node waited in wall time for a Lease whose holder
// renews it, past its 15 minutes of given time, and its progress lines
// came at wall-clock moments.
func TestRestartLeaseWaitsByItsClock(t *testing.T) {
	t.Run("a live holder: gives up after the wait, a line every 10s", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		clk, cs := newFakeClock(), leaseClient()
		start := clk.Now()
		heldLease(t, cs, "etcd", coordv1.LeaseSpec{HolderIdentity: ptr.To("cp-2_71f7fffe"), LeaseDurationSeconds: ptr.To[int32](60), RenewTime: ptr.To(metav1.NewMicroTime(start))})
		renewing(cs, "etcd", clk)
		var out bytes.Buffer
		l := clockLease(cs, "cp-1_0a0b0c0d", clk, &out)
		l.wait = 3 * time.Minute // --lease-wait
		_, err := l.acquire(ctx, "etcd", "etcd")
		if err == nil || !strings.Contains(err.Error(), "waited 3m0s for the Lease kube-system/certctl-restart-etcd") || !strings.Contains(err.Error(), "the restart stays owed") {
			t.Fatalf("waiting for a live holder: %v; want the 3 minutes of --lease-wait, by the given clock, and the restart owed", err)
		}
		if waited := clk.Now().Sub(start); waited < l.wait || waited > l.wait+2*time.Second {
			t.Errorf("gave up after %s of the given clock, want %s", waited, l.wait)
		}
		lines := strings.Count(out.String(), "[restart] etcd: waiting for cp-2_71f7fffe, which restarts its etcd")
		if want := int(l.wait/(10*time.Second)) + 1; lines != want {
			t.Errorf("%d progress lines in 3 minutes, want one every 10s: %d\n%s", lines, want, out.String())
		}
	})

	t.Run("a holder that stopped: taken once it expires by the given clock", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		clk, cs := newFakeClock(), leaseClient()
		renewed := clk.Now().Add(-10 * time.Second)
		heldLease(t, cs, "etcd", coordv1.LeaseSpec{HolderIdentity: ptr.To("cp-2_71f7fffe"), LeaseDurationSeconds: ptr.To[int32](60), RenewTime: ptr.To(metav1.NewMicroTime(renewed))})
		var out bytes.Buffer
		release, err := clockLease(cs, "cp-1_0a0b0c0d", clk, &out).acquire(ctx, "etcd", "etcd")
		if err != nil {
			t.Fatal(err)
		}
		defer release(true)
		if took := clk.Now(); took.Before(renewed.Add(time.Minute)) || took.After(clk.Now().Add(2*time.Minute)) {
			t.Errorf("took the Lease at %s, want once it expired, 60s after %s", took, renewed)
		}
		if !strings.Contains(out.String(), "held by cp-2_71f7fffe, which has not renewed it since 2026-12-04T11:21:50Z") {
			t.Errorf("the wait does not say who held the Lease and since when it was not renewed:\n%s", out.String())
		}
	})
}
