package carotate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
)

// TestRestartWaitsByTheRotationsClock: the restarts after a stage wait
// by the rotation's clock, Options.Now and Sleep, and its Leases too
// (WithSettings gives both to renew.Coordination): kube-apiserver, which
// never comes back here (nothing listens on its port), is given up after
// the 5 minutes of --restart-timeout by that clock, in no wall time.
// Before, restart gave staticpods.Restart neither, and Options had no
// Sleep to give the Leases: the wait read the wall clock.
func TestRestartWaitsByTheRotationsClock(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	manifestDir := n.Path("manifests")
	if err := os.Mkdir(manifestDir, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  labels: {component: kube-apiserver, tier: control-plane}
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-apiserver
    - --bind-address=127.0.0.1
    - --secure-port=1
    - --client-ca-file=/etc/kubernetes/pki/ca.crt
    - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt
    image: registry.k8s.io/kube-apiserver:v1.37.1
    name: kube-apiserver
    volumeMounts:
    - {mountPath: /etc/kubernetes/pki, name: k8s-certs, readOnly: true}
  hostNetwork: true
  volumes:
  - hostPath: {path: %s, type: DirectoryOrCreate}
    name: k8s-certs
`, n.Cluster.CertificatesDir)
	if err := os.WriteFile(n.Path("manifests/kube-apiserver.yaml"), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := treetest.NewStepClock(pkitest.Made.Add(time.Hour))
	var out bytes.Buffer
	o := Options{KubeconfigDir: n.Dir, ManifestDir: manifestDir, Restart: true, RestartTimeout: 5 * time.Minute,
		Now: clk.Now, Sleep: clk.Sleep, Out: &out, Cluster: &ClusterOptions{}}
	o = o.WithSettings(&config.Cluster{CertificatesDir: n.Cluster.CertificatesDir, NodeName: "cp-1"}, false, "", "")
	if o.Coordination == nil || o.Coordination.Now == nil || o.Coordination.Sleep == nil {
		t.Fatalf("Coordination = %+v, want the rotation's Now and Sleep", o.Coordination)
	}
	before := clk.Now()
	if err := o.Coordination.Sleep(context.Background(), time.Minute); err != nil || clk.Now().Sub(before) != time.Minute {
		t.Errorf("Coordination.Sleep is not the rotation's: %v, the clock moved %s", err, clk.Now().Sub(before))
	}
	k, err := kindOf("ca")
	if err != nil {
		t.Fatal(err)
	}
	// The wall-clock deadline: well below the 5 minutes a wait by the
	// wall clock would take, well above the ~600 polls' real time (a TLS
	// dial and a look at /proc each, 20 s when e2e runs beside it).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o.Coordination, o.Cluster = nil, nil // no API server: the node restarts alone
	err = o.restart(ctx, k, k.paths(o.CertDir), &Record{Stage: StageTrust})
	if err == nil || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Fatalf("restart: %v; want kube-apiserver given up after 5m0s of the rotation's clock, not the test's wall-clock deadline\n%s", err, out.String())
	}
	for _, want := range []string{"kube-apiserver is not reachable on its secure port 127.0.0.1:1 after 5m0s", "(4m50s of 5m0s)"} {
		if !strings.Contains(err.Error()+out.String(), want) {
			t.Errorf("the restart does not say %q:\n%v\n%s", want, err, out.String())
		}
	}
}
