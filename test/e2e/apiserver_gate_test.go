package e2e

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renew"
)

// TestAPIServerRestartRefusedWhileNoOtherIsReady: on two control-plane nodes whose mirror pods
// name their kube-apiservers, cp-2's kube-apiserver is down (a renewal left it unable to start,
// its Lease expired). cp-1's `renew apiserver --restart-control-plane` takes the Lease, finds no
// other kube-apiserver ready, waits up to the Lease's wait, and leaves its own alone, the last
// one that answers: its manifest and process unchanged, the restart owed, the run failed naming
// cp-2. Once cp-2's is back, the next run restarts cp-1's.
func TestAPIServerRestartRefusedWhileNoOtherIsReady(t *testing.T) {
	h := testcluster.StartHA(t, testcluster.Options{Nodes: 2, Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 8*time.Minute)
	if err := h.WriteManifests(); err != nil {
		t.Fatal(err)
	}
	cp1, cp2 := h.Node(1), h.Node(2)
	cs, err := cp1.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	// The ServiceAccount admission plugin wants kube-system's default account.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "kube-system"}}
	if _, err := cs.CoreV1().ServiceAccounts("kube-system").Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, c := range h.Nodes {
		// The Node first, as a kubelet registers it: its mirror pods name
		// it as their controller.
		registerNode(t, ctx, cs, c.NodeName(), c.Host())
		registerMirrorPods(t, ctx, cs, c.NodeName(), c.Addr(testcluster.APIServer), c.URL(testcluster.Etcd))
	}
	// Only cp-1 runs a Kubelet: cp-2's would start its kube-apiserver again.
	k, err := cp1.StartKubelet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Stop()
	if err := cp2.StopComponent(ctx, testcluster.APIServer); err != nil {
		t.Fatal(err)
	}
	manifest := cp1.ManifestPath(testcluster.APIServer)
	before, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	pid := cp1.PID(testcluster.APIServer)
	run := func(wait time.Duration) (string, error) {
		cluster, _ := config.FromCertificates(cp1.PKIDir(), cp1.KubeconfigDir(), config.Default())
		cluster.NodeName = cp1.NodeName()
		var out bytes.Buffer
		err := renew.Run(ctx, renew.Options{Cluster: &cluster, KubeconfigDir: cp1.KubeconfigDir(), Args: []string{"apiserver"},
			Restart: renew.Restart{Enabled: true, ManifestDir: cp1.ManifestDir(), Timeout: 2 * time.Minute, LeaseWait: wait},
			Out:     &out, ErrOut: &out})
		t.Logf("cp-1: renew apiserver --restart-control-plane: %v\n%s", err, out.String())
		return out.String(), err
	}

	start := time.Now()
	out, err := run(15 * time.Second)
	if err == nil {
		t.Fatal("cp-1 restarted its kube-apiserver while cp-2's was down")
	}
	for _, w := range []string{"not restarted, as no kube-apiserver would be ready", "cp-2 (" + cp2.Addr(testcluster.APIServer) + ": /readyz: ", "bring one back, then run certctl again"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the refusal does not say %q", w)
		}
	}
	if !strings.Contains(out, "took the Lease kube-system/certctl-restart-kube-apiserver") {
		t.Error("cp-1 did not take kube-apiserver's Lease before the check")
	}
	if d := time.Since(start); d < 15*time.Second {
		t.Errorf("refused after %s, want after the 15 s wait", d)
	}
	if after, _ := os.ReadFile(manifest); !bytes.Equal(after, before) {
		t.Error("cp-1's kube-apiserver manifest changed although the restart was refused")
	}
	if got := cp1.PID(testcluster.APIServer); got != pid {
		t.Errorf("cp-1's kube-apiserver is pid %d, was %d: it was restarted", got, pid)
	}
	path, err := staticpods.PendingPath(cp1.PKIDir())
	if err != nil {
		t.Fatal(err)
	}
	if owed, err := staticpods.LoadPending(path); err != nil || owed.Get(testcluster.APIServer) == nil {
		t.Errorf("cp-1's kube-apiserver restart is not owed (%v)", err)
	}

	// cp-2's kube-apiserver is back: the next run restarts cp-1's.
	if err := cp2.StartComponent(ctx, testcluster.APIServer); err != nil {
		t.Fatal(err)
	}
	out, err = run(time.Minute)
	if err != nil {
		t.Fatalf("with cp-2's kube-apiserver back, the run failed: %v", err)
	}
	if want := "the other kube-apiserver, cp-2 (" + cp2.Addr(testcluster.APIServer) + "), is ready"; !strings.Contains(out, want) {
		t.Errorf("the run does not say %q", want)
	}
	if cp1.PID(testcluster.APIServer) == pid {
		t.Error("cp-1's kube-apiserver was not restarted once cp-2's was back")
	}
}
