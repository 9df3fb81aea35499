package copycerts

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestDownloadRefusesEmptyRequiredEntry: only a CA's key may be empty in
// the Secret (an external CA keeps it). A Secret whose ca.crt, sa.pub or
// sa.key entry is empty (edited, or uploaded by kubeadm from a node that
// lacked the file) would leave the joining node without it, or with a key
// and no certificate: it is refused, naming the entry, and nothing is
// written.
func TestDownloadRefusesEmptyRequiredEntry(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	key := testKey(t)
	for _, name := range []string{"ca.crt", "front-proxy-ca.crt", "sa.pub", "sa.key", "etcd-ca.crt"} {
		t.Run(name, func(t *testing.T) {
			cs := fake.NewClientset()
			upload(t, cs, n.CertDir(), key)
			s, err := cs.CoreV1().Secrets(Namespace).Get(context.Background(), SecretName, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s.Data[name] = []byte{}
			if _, err := cs.CoreV1().Secrets(Namespace).Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			parent := t.TempDir()
			dir := filepath.Join(parent, "pki")
			out, err := download(cs, dir, key, nil)
			treetest.ErrMentions(t, err, name, "kube-system/kubeadm-certs", "empty", "upload again")
			if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
				t.Errorf("folder %s written after an error (%v):\n%s", dir, err, out)
			}
		})
	}
}

// TestDownloadExternalCAKeepsNoOtherKey: with an external CA the Secret's
// ca.key entry is empty, so download writes ca.crt alone. A ca.key left in
// the folder from another cluster would then sit beside a ca.crt it does
// not match: download refuses, as for any file of another cluster, and
// writes nothing. A ca.key that matches the cluster's ca.crt is kept.
func TestDownloadExternalCAKeepsNoOtherKey(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	other := pkitest.NewNode(t, nil)
	ownKey, err := os.ReadFile(filepath.Join(n.CertDir(), "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(n.CertDir(), "ca.key")); err != nil {
		t.Fatal(err)
	}
	cs := fake.NewClientset()
	key := testKey(t)
	upload(t, cs, n.CertDir(), key)

	parent := t.TempDir()
	dir := filepath.Join(parent, "pki")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(other.CertDir(), "ca.key"), filepath.Join(dir, "ca.key"))
	before := treetest.Snapshot(t, dir)
	out, err := download(cs, dir, key, nil)
	treetest.ErrMentions(t, err, filepath.Join(dir, "ca.key"), "does not match", "ca.crt", "nothing was written")
	treetest.AssertSame(t, before, treetest.Snapshot(t, dir))
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}

	// The cluster's own CA key (kept on this node by hand) is fine.
	dir2 := filepath.Join(t.TempDir(), "pki")
	if err := os.MkdirAll(dir2, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir2, "ca.key"), ownKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := download(cs, dir2, key, nil); err != nil {
		t.Fatalf("download beside the cluster's own ca.key: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir2, "ca.crt")); err != nil {
		t.Errorf("ca.crt: %v", err)
	}
}
