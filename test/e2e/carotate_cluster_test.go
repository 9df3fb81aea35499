package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/internal/treetest"
)

// TestRotateGatesOnThreeNodes runs the cluster CA's rotation on a real three-node control
// plane out of order and checks that certctl's gates refuse, in one line naming the node, with
// every file of the refused node left as it was: a wrong --certificate-key on node 2 (the
// Secret does not decrypt); reissue on node 1 while node 3, a control-plane Node of the
// cluster, has not joined the rotation; finish on node 1 while node 2 is still at trust. Then
// it checks that the ConfigMap kube-system/certctl-ca-rotation-ca says each node's stage, and
// that --forget-node takes node 3, removed from the cluster, out of it (refused while its Node
// object exists; ca status names the command once it is gone).
func TestRotateGatesOnThreeNodes(t *testing.T) {
	h := testcluster.StartHA(t, testcluster.Options{Nodes: 3})
	ctx := testCtx(t, 15*time.Minute)
	if _, err := h.StartKubelets(ctx); err != nil {
		t.Fatal(err)
	}
	cs, err := h.Node(1).AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	stdin := "" // the standard input of the next rotate
	rotate := func(c *testcluster.Cluster, extra ...string) (string, error) {
		args := append([]string{"ca", "rotate", "ca", "--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(),
			"--manifest-dir", c.ManifestDir(), "--restart-control-plane", "--restart-timeout", "3m", "--root-ca-settle", "1s"}, extra...)
		cmd := exec.CommandContext(ctx, signerCertctl(t), args...)
		cmd.Stdin, stdin = strings.NewReader(stdin), ""
		out, err := cmd.CombinedOutput()
		t.Logf("$ certctl %s\n%s", strings.Join(args, " "), out)
		return string(out), err
	}
	must := func(c *testcluster.Cluster, extra ...string) string {
		t.Helper()
		out, err := rotate(c, extra...)
		if err != nil {
			t.Fatalf("%s: ca rotate ca %v: %v\n%s", c.NodeName(), extra, err, out)
		}
		return out
	}
	refused := func(c *testcluster.Cluster, want []string, extra ...string) {
		t.Helper()
		before := nodeTree(t, c)
		out, err := rotate(c, extra...)
		if err == nil {
			t.Fatalf("%s: ca rotate ca %v was not refused:\n%s", c.NodeName(), extra, out)
		}
		var errLines []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if strings.HasPrefix(l, "error: ") {
				errLines = append(errLines, l)
			}
		}
		if len(errLines) != 1 {
			t.Errorf("%s: the refusal is not one error line:\n%s", c.NodeName(), out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: the refusal does not say %q:\n%s", c.NodeName(), w, out)
			}
		}
		treetest.AssertSame(t, before, nodeTree(t, c))
	}

	out := must(h.Node(1))
	m := printedKey.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("trust on node 1 printed no certificate key:\n%s", out)
	}
	key := m[1]
	// The control-plane Nodes the kubelets of a kubeadm cluster register.
	for _, c := range h.Nodes {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: c.NodeName(), Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}}
		if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	refused(h.Node(2), []string{"decrypt", "--certificate-key"}, "--certificate-key", strings.Repeat("0", 64))
	must(h.Node(2), "--certificate-key", key)
	refused(h.Node(1), []string{"reissue of ca on node cp-1 refused", "control-plane node cp-3 is not in the rotation"})
	// Node 3 reads the key from standard input, where ps does not show it.
	stdin = key + "\n"
	must(h.Node(3), "--certificate-key", "-")
	must(h.Node(1)) // reissue
	refused(h.Node(1), []string{"finish of ca on node cp-1 refused", "node cp-2 is at stage trust"})
	// Node 1's kube-apiserver serves a certificate of the new CA now: admin.conf, read again,
	// trusts both.
	if cs, err = h.Node(1).AdminClient(); err != nil {
		t.Fatal(err)
	}

	cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, "certctl-ca-rotation-ca", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Nodes map[string]struct {
			Stage string `json:"stage"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(cm.Data["rotation.json"]), &rec); err != nil {
		t.Fatal(err)
	}
	for node, stage := range map[string]string{"cp-1": "reissue", "cp-2": "trust", "cp-3": "trust"} {
		if got := rec.Nodes[node].Stage; got != stage {
			t.Errorf("the cluster record says %s is at %q, want %s:\n%s", node, got, stage, cm.Data["rotation.json"])
		}
	}
	if _, err := cs.CoreV1().Secrets("kube-system").Get(ctx, "certctl-ca-rotation-ca", metav1.GetOptions{}); err != nil {
		t.Errorf("the Secret of the new CA is gone while nodes 2 and 3 have not re-issued: %v", err)
	}
	// The first reissue's apiserver serves the new CA: node 1's endpoint is in the record.
	if !strings.Contains(cm.Data["rotation.json"], h.Node(1).Addr(testcluster.APIServer)) {
		t.Errorf("the cluster record does not list node 1's kube-apiserver %s:\n%s", h.Node(1).Addr(testcluster.APIServer), cm.Data["rotation.json"])
	}

	// Node 3 is removed from the cluster at trust: --forget-node, run on node 1, takes it
	// out of the record, once its Node object is gone, and changes nothing else.
	certctl := func(c *testcluster.Cluster, args ...string) (string, error) {
		args = append(args, "--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(), "--manifest-dir", c.ManifestDir())
		out, err := exec.CommandContext(ctx, signerCertctl(t), args...).CombinedOutput()
		t.Logf("$ certctl %s\n%s", strings.Join(args, " "), out)
		return string(out), err
	}
	before := nodeTree(t, h.Node(1))
	if out, err := certctl(h.Node(1), "ca", "rotate", "ca", "--forget-node", "cp-3"); err == nil || !strings.Contains(out, "node cp-3 still has a control-plane Node object") {
		t.Errorf("--forget-node cp-3 while its Node object exists: %v, want a refusal:\n%s", err, out)
	}
	if err := cs.CoreV1().Nodes().Delete(ctx, "cp-3", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if out, err := certctl(h.Node(1), "ca", "status"); err != nil || !strings.Contains(out, "certctl ca rotate ca --forget-node cp-3") {
		t.Errorf("ca status on node 1, cp-3's Node object deleted: %v, want --forget-node cp-3:\n%s", err, out)
	}
	if out, err := certctl(h.Node(1), "ca", "rotate", "ca", "--forget-node", "cp-3"); err != nil || !strings.Contains(out, "removed node cp-3") {
		t.Fatalf("--forget-node cp-3: %v\n%s", err, out)
	}
	treetest.AssertSame(t, before, nodeTree(t, h.Node(1)))
	cm, err = cs.CoreV1().ConfigMaps("kube-system").Get(ctx, "certctl-ca-rotation-ca", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec.Nodes = nil
	if err := json.Unmarshal([]byte(cm.Data["rotation.json"]), &rec); err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.Nodes["cp-3"]; ok || rec.Nodes["cp-1"].Stage != "reissue" || rec.Nodes["cp-2"].Stage != "trust" {
		t.Errorf("the cluster record after --forget-node cp-3:\n%s", cm.Data["rotation.json"])
	}

	// Node 3 was not gone after all: its next stage would write its entry back and publish
	// the new CA again. It is refused, naming the key that keeps the forget, and changes nothing.
	before3 := nodeTree(t, h.Node(3))
	if out, err := certctl(h.Node(3), "ca", "rotate", "ca"); err == nil || !strings.Contains(out, "node cp-3 was taken out of the rotation of ca with --forget-node") ||
		!strings.Contains(out, "key forgotten.json of ConfigMap kube-system/certctl-ca-rotation-ca") {
		t.Errorf("ca rotate ca on node 3 after --forget-node cp-3: %v, want a refusal:\n%s", err, out)
	}
	treetest.AssertSame(t, before3, nodeTree(t, h.Node(3)))
	after, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, "certctl-ca-rotation-ca", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.Data["rotation.json"] != cm.Data["rotation.json"] || !strings.Contains(after.Data["forgotten.json"], `"cp-3"`) {
		t.Errorf("node 3's refused stage changed the cluster record, or it no longer forgets cp-3:\n%s\n%s", after.Data["rotation.json"], after.Data["forgotten.json"])
	}
}

// nodeTree is what a refused stage must leave as it was: the node's kubeconfigs, certificates
// and manifests, but for certctl's lock file, which every call takes.
func nodeTree(t *testing.T, c *testcluster.Cluster) map[string]string {
	t.Helper()
	s := treetest.Snapshot(t, c.KubeconfigDir())
	for p := range s {
		if filepath.Base(p) == ".certctl.lock" {
			delete(s, p)
		}
	}
	return s
}
