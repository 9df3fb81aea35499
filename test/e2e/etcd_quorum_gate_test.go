package e2e

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renew"
)

// TestEtcdRestartRefusedWhileAnotherMemberIsDown: cp-1's etcd member is down (its Lease long
// expired: nothing holds certctl-restart-etcd). `renew etcd-server --restart-control-plane` on
// cp-2, whose static pods a harness Kubelet runs, takes the Lease, asks its own member for the
// member list and the others for /health, waits the Lease's wait (20 s here) and does not
// restart its etcd: with it down, one member of three would be left. The run fails naming
// cp-1's member and its URL; the manifest is unchanged, the restart is owed, cp-2's and cp-3's
// members stay healthy (the quorum stays). Once cp-1's member is back, the next run restarts
// cp-2's etcd. Run in-process (phases/renew), as the command has no --lease-wait flag yet and
// waits 15 minutes by default.
func TestEtcdRestartRefusedWhileAnotherMemberIsDown(t *testing.T) {
	h := testcluster.StartHA(t, testcluster.Options{Nodes: 3, Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 8*time.Minute)
	if err := h.WriteManifests(); err != nil {
		t.Fatal(err)
	}
	cp1, cp2, cp3 := h.Node(1), h.Node(2), h.Node(3)
	// Only cp-2 runs a Kubelet: cp-1's would start its etcd again.
	k, err := cp2.StartKubelet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Stop()
	if err := cp1.StopComponent(ctx, testcluster.Etcd); err != nil {
		t.Fatal(err)
	}
	manifest := cp2.ManifestPath(testcluster.Etcd)
	before, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	pid := cp2.PID(testcluster.Etcd)
	run := func(wait time.Duration) (string, error) {
		cluster, _ := config.FromCertificates(cp2.PKIDir(), cp2.KubeconfigDir(), config.Default())
		var out bytes.Buffer
		err := renew.Run(ctx, renew.Options{Cluster: &cluster, KubeconfigDir: cp2.KubeconfigDir(), Args: []string{"etcd-server"},
			Restart: renew.Restart{Enabled: true, ManifestDir: cp2.ManifestDir(), Timeout: 2 * time.Minute, LeaseWait: wait},
			Out:     &out, ErrOut: &out})
		t.Logf("cp-2: renew etcd-server --restart-control-plane: %v\n%s", err, out.String())
		return out.String(), err
	}

	start := time.Now()
	out, err := run(20 * time.Second)
	if err == nil {
		t.Fatal("cp-2 restarted its etcd while cp-1's member was down")
	}
	for _, w := range []string{"etcd would lose its quorum", "cp-1 (" + cp1.URL(testcluster.Etcd), "only 1 of 3 members", "bring cp-1's etcd back, then run certctl again"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the refusal does not say %q", w)
		}
	}
	if !strings.Contains(out, "took the Lease kube-system/certctl-restart-etcd") {
		t.Error("cp-2 did not take etcd's Lease before the check")
	}
	if d := time.Since(start); d < 20*time.Second {
		t.Errorf("refused after %s, want after the 20 s wait", d)
	}
	if after, _ := os.ReadFile(manifest); !bytes.Equal(after, before) {
		t.Error("cp-2's etcd manifest changed although the restart was refused")
	}
	if got := cp2.PID(testcluster.Etcd); got != pid {
		t.Errorf("cp-2's etcd is pid %d, was %d: it was restarted", got, pid)
	}
	path, err := staticpods.PendingPath(cp2.PKIDir())
	if err != nil {
		t.Fatal(err)
	}
	if owed, err := staticpods.LoadPending(path); err != nil || owed.Get(testcluster.Etcd) == nil {
		t.Errorf("cp-2's etcd restart is not owed (%v)", err)
	}
	for _, c := range []*testcluster.Cluster{cp2, cp3} {
		client, err := c.EtcdHTTPClient()
		if err != nil {
			t.Fatal(err)
		}
		if err := etcdHealthy(client, c.URL(testcluster.Etcd)+"/health"); err != nil {
			t.Errorf("etcd on %s is not healthy after the refused restart: %v", c.NodeName(), err)
		}
	}

	// The member is back: the next run restarts cp-2's etcd.
	if err := cp1.StartComponent(ctx, testcluster.Etcd); err != nil {
		t.Fatal(err)
	}
	out, err = run(time.Minute)
	if err != nil {
		t.Fatalf("with cp-1's member back, the run failed: %v", err)
	}
	if !strings.Contains(out, "2 of the other 2 etcd members are healthy") {
		t.Error("the run does not say that the other members keep the quorum")
	}
	if cp2.PID(testcluster.Etcd) == pid {
		t.Error("cp-2's etcd was not restarted once cp-1's member was back")
	}
	for _, c := range h.Nodes {
		if n := etcdMembers(t, ctx, c); n != 3 {
			t.Errorf("etcd on %s lists %d members, want 3", c.NodeName(), n)
		}
	}
}
