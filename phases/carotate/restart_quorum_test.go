package carotate

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestRestartGatesEtcdOnQuorum: the restarts after a stage of ca rotate
// restarted this node's etcd member without the quorum check renew makes
// (staticpods.EtcdQuorum, renew.EtcdQuorum): during a rotation of etcd-ca
// on three nodes, a node whose member was down did not stop the next
// node from taking its own down. The check runs here too; with no member
// answering on this node's client URL it says why it does not gate, and
// the restart goes on (staticpods' and renew's tests cover the refusal).
func TestRestartGatesEtcdOnQuorum(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	manifestDir := n.Path("manifests")
	if err := os.Mkdir(manifestDir, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  labels: {component: etcd, tier: control-plane}
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --listen-client-urls=https://127.0.0.1:1
    - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    - --key-file=/etc/kubernetes/pki/etcd/server.key
    image: registry.k8s.io/etcd:3.6.5-0
    name: etcd
    volumeMounts:
    - {mountPath: /etc/kubernetes/pki/etcd, name: etcd-certs}
  hostNetwork: true
  volumes:
  - hostPath: {path: %s/etcd, type: DirectoryOrCreate}
    name: etcd-certs
`, n.Cluster.CertificatesDir)
	if err := os.WriteFile(n.Path("manifests/etcd.yaml"), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := treetest.NewStepClock(pkitest.Made.Add(time.Hour))
	var out bytes.Buffer
	o := Options{CertDir: n.Cluster.CertificatesDir, KubeconfigDir: n.Dir, ManifestDir: manifestDir, Restart: true,
		RestartTimeout: time.Minute, Now: clk.Now, Sleep: clk.Sleep, Out: &out}
	k, err := kindOf("etcd-ca")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_ = o.restart(ctx, k, k.paths(o.CertDir), &Record{Stage: StageTrust})
	if want := "cannot read etcd's member list from this node's member"; !strings.Contains(out.String(), want) {
		t.Errorf("the etcd restart of a rotation is not gated on etcd's quorum: its output does not say %q:\n%s", want, out.String())
	}
}
