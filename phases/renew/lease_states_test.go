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
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/certctl/certctl/internal/treetest"
)

// renewingSkewed is renewing for a holder whose clock is off by skew
// from this node's: the renewTime it writes is clk's time plus skew.
func renewingSkewed(cs *fake.Clientset, component string, clk *treetest.StepClock, skew time.Duration) {
	cs.PrependReactor("get", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.(k8stesting.GetAction).GetName() != RestartLeasePrefix+component {
			return false, nil, nil
		}
		o, err := cs.Tracker().Get(leasesGVR, "kube-system", RestartLeasePrefix+component)
		if err != nil {
			return false, nil, nil
		}
		l := o.(*coordv1.Lease).DeepCopy()
		l.Spec.RenewTime = ptr.To(metav1.NewMicroTime(clk.Now().Add(skew)))
		_ = cs.Tracker().Update(leasesGVR, l, "kube-system")
		return false, nil, nil
	})
}

// TestRestartLeaseBadStates: what a node does with a restart Lease it finds
// in every state another node, a killed run, another tool or a skewed clock
// can leave it in. A Lease no one holds is taken at once. One whose holder
// stopped renewing it is taken once it has not changed for its duration (60s)
// by this node's clock, whatever the holder wrote, and the wait says who held
// it. One whose holder still renews it is never taken, so that two nodes
// never restart etcd at once. Before: a Lease without leaseDurationSeconds or
// renewTime, or with leaseDurationSeconds 0, counted as free, even while its
// holder renewed it (two etcd members down); one whose holder's clock was
// behind by more than 60s looked expired while its holder restarted; one
// whose holder's clock was an hour ahead blocked every node for that hour,
// longer than the 15 minutes a run waits, and so every run of every node
// failed until then.
func TestRestartLeaseBadStates(t *testing.T) {
	at := newFakeClock().Now()
	micro := func(d time.Duration) *metav1.MicroTime { return ptr.To(metav1.NewMicroTime(at.Add(d))) }
	holder := ptr.To("cp-2_71f7fffe")
	for _, tc := range []struct {
		name string
		spec coordv1.LeaseSpec
		// live, when set, is the holder renewing it, its clock off by
		// skew from this node's.
		live bool
		skew time.Duration
		// took is when this node takes it, from its first look; -1:
		// never (it gives up after its wait, the restart owed).
		took time.Duration
		says string
	}{
		{name: "free", spec: coordv1.LeaseSpec{LeaseDurationSeconds: ptr.To[int32](60), RenewTime: micro(0)}, took: 0},
		{name: "holder empty", spec: coordv1.LeaseSpec{HolderIdentity: ptr.To(""), LeaseDurationSeconds: ptr.To[int32](60), RenewTime: micro(0)}, took: 0},
		{name: "killed mid-restart", spec: coordv1.LeaseSpec{HolderIdentity: holder, LeaseDurationSeconds: ptr.To[int32](60), RenewTime: micro(-10 * time.Second)}, took: 60 * time.Second,
			says: "held by cp-2_71f7fffe, which has not renewed it since 2026-12-04T11:21:50Z"},
		{name: "killed long ago", spec: coordv1.LeaseSpec{HolderIdentity: holder, LeaseDurationSeconds: ptr.To[int32](60), RenewTime: micro(-time.Hour)}, took: 60 * time.Second,
			says: "held by cp-2_71f7fffe, which has not renewed it since 2026-12-04T10:22:00Z"},
		// This run holds certctl's lock, which that run held: it is over.
		{name: "an earlier run of this node, killed", spec: coordv1.LeaseSpec{HolderIdentity: ptr.To("cp-1_deadbeef"), LeaseDurationSeconds: ptr.To[int32](60), RenewTime: micro(-10 * time.Second)}, took: 0,
			says: "[restart] etcd: took over the Lease kube-system/certctl-restart-etcd from cp-1_deadbeef, an earlier run of this node, which stopped before it freed it: this run holds certctl's lock, which that run held, so it is over\n"},
		{name: "renewing", spec: coordv1.LeaseSpec{HolderIdentity: holder, LeaseDurationSeconds: ptr.To[int32](60), RenewTime: micro(0)}, live: true, took: -1,
			says: "waiting for cp-2_71f7fffe, which restarts its etcd"},
		{name: "duration 0, renewing", spec: coordv1.LeaseSpec{HolderIdentity: holder, LeaseDurationSeconds: ptr.To[int32](0), RenewTime: micro(0)}, live: true, took: -1},
		{name: "duration 0, stopped", spec: coordv1.LeaseSpec{HolderIdentity: holder, LeaseDurationSeconds: ptr.To[int32](0), RenewTime: micro(0)}, took: 60 * time.Second},
		{name: "no duration, renewing", spec: coordv1.LeaseSpec{HolderIdentity: holder, RenewTime: micro(0)}, live: true, took: -1},
		{name: "no duration, stopped", spec: coordv1.LeaseSpec{HolderIdentity: holder, RenewTime: micro(0)}, took: 60 * time.Second},
		{name: "no renewTime, stopped", spec: coordv1.LeaseSpec{HolderIdentity: holder, LeaseDurationSeconds: ptr.To[int32](60)}, took: 60 * time.Second,
			says: "held by cp-2_71f7fffe, which has not renewed it since "},
		// Its holder renews it every 6 hours only: the wait ends first.
		{name: "a day long, stopped", spec: coordv1.LeaseSpec{HolderIdentity: holder, LeaseDurationSeconds: ptr.To[int32](86400), RenewTime: micro(0)}, took: -1},
		{name: "holder's clock an hour ahead, stopped", spec: coordv1.LeaseSpec{HolderIdentity: holder, LeaseDurationSeconds: ptr.To[int32](60), RenewTime: micro(time.Hour)}, took: 60 * time.Second,
			says: "its renewTime 2026-12-04T12:22:00Z is 1h0m0s ahead of this node's clock"},
		{name: "holder's clock an hour ahead, renewing", spec: coordv1.LeaseSpec{HolderIdentity: holder, LeaseDurationSeconds: ptr.To[int32](60), RenewTime: micro(time.Hour)}, live: true, skew: time.Hour, took: -1},
		{name: "holder's clock an hour behind, renewing", spec: coordv1.LeaseSpec{HolderIdentity: holder, LeaseDurationSeconds: ptr.To[int32](60), RenewTime: micro(-time.Hour)}, live: true, skew: -time.Hour, took: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			clk, cs := newFakeClock(), leaseClient()
			heldLease(t, cs, "etcd", tc.spec)
			if tc.live {
				renewingSkewed(cs, "etcd", clk, tc.skew)
			}
			var out bytes.Buffer
			l := clockLease(cs, "cp-1_0a0b0c0d", clk, &out)
			l.wait = 3 * time.Minute
			release, err := l.acquire(ctx, "etcd", "etcd")
			waited := clk.Now().Sub(at)
			switch {
			case tc.took < 0 && err == nil:
				release(true)
				t.Fatalf("took the Lease after %s while its holder renews it: two nodes restart etcd at once\n%s", waited, out.String())
			case tc.took < 0 && !strings.Contains(err.Error(), "the restart stays owed"):
				t.Fatalf("waiting: %v; want the restart owed", err)
			case tc.took >= 0 && err != nil:
				t.Fatalf("after %s: %v; want the Lease taken after %s", waited, err, tc.took)
			case tc.took >= 0:
				release(true)
				if waited < tc.took || waited > tc.took+time.Second {
					t.Errorf("took the Lease after %s, want %s\n%s", waited, tc.took, out.String())
				}
			}
			if tc.took < 0 && err != nil && !strings.Contains(err.Error(), "(held by cp-2_71f7fffe, ") {
				t.Errorf("the error of the wait does not say who holds the Lease: %v", err)
			}
			if !strings.Contains(out.String(), tc.says) {
				t.Errorf("the wait does not say %q:\n%s", tc.says, out.String())
			}
		})
	}
}
