package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/manifests/staticpods"
)

// TestHarnessHARollingRestart: on three nodes, the harness Kubelets restart each
// kube-apiserver in turn, then the etcd of a node whose member is not the leader (a leader's
// restart is an election, during which every member's /health fails for a moment:
// TestClusterRestartsKeepEtcdQuorum covers it), when its manifest's restart annotation changes, as
// certctl restarts them, while two traffic probers run. Clients behind a load balancer
// (ReadyOnly: requests go to kube-apiservers whose /readyz answers) see no failed request,
// because kube-apiserver's --shutdown-delay-duration keeps it serving while /readyz already
// reports it going, and each kube-apiserver fails over to another etcd member; at every moment at
// least two endpoints answer each kind. etcd clients pinned to that member find it down
// (unavailable), and the one request in flight as it stops may fail (EOF; kube-apiserver's own
// etcd client retries on another member), which is logged, not asserted. Admin requests
// pinned to each kube-apiserver find it down during its restart; their failures while it
// starts (it listens before its authorizer is ready) are logged, not asserted.
func TestHarnessHARollingRestart(t *testing.T) {
	h := testcluster.StartHA(t, testcluster.Options{Nodes: 3, ExtraArgs: map[string][]string{
		testcluster.APIServer: {"--shutdown-delay-duration=2s"},
	}})
	ctx := testCtx(t, 8*time.Minute)
	follower := etcdFollower(t, ctx, h)
	ks, err := h.StartKubelets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	balanced, err := testcluster.StartTraffic(ctx, h.Nodes, testcluster.TrafficOptions{ReadyOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := testcluster.StartTraffic(ctx, h.Nodes, testcluster.TrafficOptions{Kinds: []testcluster.TrafficKind{testcluster.TrafficAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	restarts := []struct {
		node      int
		component string
	}{{0, testcluster.APIServer}, {1, testcluster.APIServer}, {2, testcluster.APIServer}, {follower, testcluster.Etcd}}
	for _, rs := range restarts {
		i, c := rs.node, h.Nodes[rs.node]
		path := c.ManifestPath(rs.component)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data, err = manifests.SetAnnotation(data, staticpods.RestartAnnotation, time.Now().UTC().Format(time.RFC3339Nano))
		if err != nil {
			t.Fatal(err)
		}
		if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		harnessWaitFor(t, 3*time.Minute, c.NodeName()+"'s Kubelet restarts "+rs.component, func() bool {
			return ks[i].Restarts(rs.component) >= 1
		})
		time.Sleep(time.Second)
	}
	r := balanced.Stop()
	p := pinned.Stop()
	t.Logf("three kube-apiservers restarted in turn; requests sent to ready ones:\n%s", r)
	t.Logf("admin requests pinned to each kube-apiserver:\n%s", p)
	for i, k := range ks {
		t.Logf("cp-%d Kubelet: %v", i+1, k.Events())
		for _, e := range k.Events() {
			if e.Action == "failed" || e.Action == "rejected" {
				t.Errorf("cp-%d Kubelet: %s", i+1, e)
			}
		}
		if n := k.Restarts(testcluster.APIServer); n != 1 {
			t.Errorf("cp-%d Kubelet restarted kube-apiserver %d times, want 1", i+1, n)
		}
	}
	for _, k := range r.Kinds {
		if k.Kind != testcluster.TrafficEtcd && k.Failed() != 0 {
			t.Errorf("%s: %d requests through the load balancer failed during the rolling restart, want 0", k.Kind, k.Failed())
		}
		if k.FewestOK < 2 {
			t.Errorf("%s: fewest endpoints ok at once %d, want at least 2 (one restarts at a time)", k.Kind, k.FewestOK)
		}
		if k.Kind == testcluster.TrafficEtcd {
			for _, e := range k.Endpoints {
				if restarted := e.Node == h.Nodes[follower].NodeName(); restarted != (e.Unavailable > 0) || e.NotReady != 0 || !restarted && e.Failed != 0 {
					t.Errorf("etcd on %s: %d failed, %d unavailable, %d not ready; want unavailable (and failed, at most) only on %s, whose member restarted",
						e.Node, e.Failed, e.Unavailable, e.NotReady, h.Nodes[follower].NodeName())
				}
			}
		}
		if k.Kind != testcluster.TrafficEtcd && k.NotReady() == 0 {
			t.Errorf("%s: the load balancer never held a request back from a restarting kube-apiserver", k.Kind)
		}
	}
	if k, _ := p.Kind(testcluster.TrafficAdmin); k.Unavailable() == 0 {
		t.Error("pinned admin requests never found a kube-apiserver down during its restart")
	}
}

// etcdFollower returns the index in h.Nodes of a node whose etcd member is
// not the leader, from etcd's own status (POST /v3/maintenance/status).
func etcdFollower(t *testing.T, ctx context.Context, h *testcluster.HA) int {
	t.Helper()
	for i, c := range h.Nodes {
		client, err := c.EtcdHTTPClient()
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Header struct {
				MemberID string `json:"member_id"`
			} `json:"header"`
			Leader string `json:"leader"`
		}
		etcdCall(t, ctx, client, c, "/v3/maintenance/status", &st)
		if st.Header.MemberID == "" || st.Leader == "" {
			t.Fatalf("etcd status on %s: %+v: no member or leader ID", c.NodeName(), st)
		}
		if st.Header.MemberID != st.Leader {
			t.Logf("etcd on %s is a follower (leader %s): its member restarts", c.NodeName(), st.Leader)
			return i
		}
	}
	t.Fatal("every etcd member says it is the leader")
	return -1
}
