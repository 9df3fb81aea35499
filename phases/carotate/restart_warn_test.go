package carotate

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/renew"
)

// TestRestartLeaseLostIsAWarning: a restart whose Lease another node took
// over while it waited is a warning of the rotation, on Warn (stderr) as
// its other warnings, not a line of its progress on Out.
func TestRestartLeaseLostIsAWarning(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	manifestDir := n.Path("manifests")
	if err := os.Mkdir(manifestDir, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {component: kube-apiserver, tier: control-plane}\n  name: kube-apiserver\n  namespace: kube-system\nspec:\n  containers:\n  - command: [kube-apiserver, --bind-address=127.0.0.1, --secure-port=1, --client-ca-file=/etc/kubernetes/pki/ca.crt]\n    image: registry.k8s.io/kube-apiserver:v1.37.1\n    name: kube-apiserver\n    volumeMounts:\n    - {mountPath: /etc/kubernetes/pki, name: k8s-certs, readOnly: true}\n  hostNetwork: true\n  volumes:\n  - hostPath: {path: %s, type: DirectoryOrCreate}\n    name: k8s-certs\n", n.Cluster.CertificatesDir)
	if err := os.WriteFile(n.Path("manifests/kube-apiserver.yaml"), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	cs := fake.NewClientset()
	clk := treetest.NewStepClock(pkitest.Made.Add(time.Hour))
	// cp-2 takes the Lease over while this node waits for its restart,
	// as after 60s without a renewal.
	var once sync.Once
	sleep := func(ctx context.Context, d time.Duration) error {
		once.Do(func() {
			leases := cs.CoordinationV1().Leases("kube-system")
			l, err := leases.Get(ctx, renew.RestartLeasePrefix+"kube-apiserver", metav1.GetOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			l.Spec.HolderIdentity = ptr.To("cp-2_71f7fffe")
			if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
				t.Error(err)
			}
		})
		return clk.Sleep(ctx, d)
	}
	var out, warn bytes.Buffer
	o := Options{CertDir: n.Cluster.CertificatesDir, KubeconfigDir: n.Dir, ManifestDir: manifestDir, Restart: true, RestartTimeout: time.Minute,
		Now: clk.Now, Sleep: sleep, Out: &out, Warn: &warn,
		Coordination: &renew.Coordination{Client: cs, NodeName: "cp-1", Now: clk.Now, Sleep: sleep}}
	k, err := kindOf("ca")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := o.restart(ctx, k, k.paths(o.CertDir), &Record{Stage: StageTrust}); err == nil {
		t.Fatalf("restart of a kube-apiserver that never comes back succeeded:\n%s", out.String())
	}
	want := "[warning] kube-apiserver: cp-2_71f7fffe took the Lease kube-system/certctl-restart-kube-apiserver over while this node restarted its kube-apiserver"
	if !strings.Contains(warn.String(), want) || strings.Contains(out.String(), "[warning]") {
		t.Errorf("want %q on Warn only:\nOut:\n%s\nWarn:\n%s", want, out.String(), warn.String())
	}
}
