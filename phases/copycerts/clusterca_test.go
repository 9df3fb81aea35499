package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestUploadRefusesAnotherClustersCA: certs upload from a folder whose
// ca.crt is not the cluster's (--cert-dir of another cluster, a stale
// copy) stored it without a word, and the joining node got CAs that no
// node of the cluster trusts. The CA that kube-controller-manager
// publishes in kube-system/kube-root-ca.crt now has to be among it:
// refused, with nothing created; the cluster's own folder, a
// kube-root-ca.crt holding the old and the new CA (a CA rotation), and no
// kube-root-ca.crt at all are uploaded as before.
func TestUploadRefusesAnotherClustersCA(t *testing.T) {
	cluster := pkitest.NewNode(t, nil)
	other := pkitest.NewNode(t, nil)
	read := func(n *pkitest.Node) []byte {
		b, err := os.ReadFile(filepath.Join(n.CertDir(), "ca.crt"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rootCA := func(pem []byte) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: RootCAConfigMap, Namespace: Namespace}, Data: map[string]string{"ca.crt": string(pem)}}
	}
	var out bytes.Buffer
	up := func(cs *fake.Clientset, certDir string) error {
		out.Reset()
		_, err := Upload(context.Background(), cs, Options{CertDir: certDir, Key: testKey(t), Rand: rand.Reader, Out: &out, ErrOut: &out})
		return err
	}

	cs := fake.NewClientset(rootCA(read(cluster)))
	treetest.ErrMentions(t, up(cs, other.CertDir()), filepath.Join(other.CertDir(), "ca.crt"), "is not the CA of the cluster", "kube-root-ca.crt", "--cert-dir", "nothing was uploaded")
	if secrets, err := cs.CoreV1().Secrets(Namespace).List(context.Background(), metav1.ListOptions{}); err != nil || len(secrets.Items) != 0 {
		t.Errorf("a refused upload created %d Secrets (%v)", len(secrets.Items), err)
	}

	for name, cs := range map[string]*fake.Clientset{
		"the cluster's CA":    fake.NewClientset(rootCA(read(cluster))),
		"old and new CA":      fake.NewClientset(rootCA(append(read(other), read(cluster)...))),
		"no kube-root-ca.crt": fake.NewClientset(),
	} {
		if err := up(cs, cluster.CertDir()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		// Not compared: said once, naming the file and why.
		if notes, want := strings.Count(out.String(), "Not comparing"), name == "no kube-root-ca.crt"; (notes == 1) != want || notes > 1 ||
			want && !strings.Contains(out.String(), "[upload-certs] Not comparing "+filepath.Join(cluster.CertDir(), "ca.crt")+" with the cluster's CA: configmap kube-system/kube-root-ca.crt is not there") {
			t.Errorf("%s: output:\n%s", name, out.String())
		}
	}
}

// TestDownloadRefusesAnotherClustersCA: certs download wrote the Secret's
// CAs whatever cluster they were of, so a Secret uploaded from another
// cluster's folder (by kubeadm, or by a certctl that could not read
// kube-root-ca.crt) gave the joining node CAs no node of the cluster
// trusts. The Secret's ca.crt now has to hold one of the CAs of
// kube-system/kube-root-ca.crt, as upload's ca.crt has: refused in one
// line, nothing written, also into a folder that is there. The cluster's
// CA, the old and the new CA (a rotation), and a kube-root-ca.crt that is
// absent or that the user may not get (a bootstrap token) are downloaded,
// the last two saying once that the CA was not compared.
func TestDownloadRefusesAnotherClustersCA(t *testing.T) {
	cluster := pkitest.NewNode(t, nil)
	other := pkitest.NewNode(t, nil)
	key := testKey(t)
	read := func(n *pkitest.Node) []byte {
		b, err := os.ReadFile(filepath.Join(n.CertDir(), "ca.crt"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// secretOf is a clientset whose kubeadm-certs holds the files of
	// from, uploaded before root (when not nil) was published.
	secretOf := func(from *pkitest.Node, root []byte) *fake.Clientset {
		cs := fake.NewClientset()
		upload(t, cs, from.CertDir(), key)
		if root != nil {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: RootCAConfigMap, Namespace: Namespace}, Data: map[string]string{"ca.crt": string(root)}}
			if _, err := cs.CoreV1().ConfigMaps(Namespace).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		return cs
	}

	t.Run("refused", func(t *testing.T) {
		cs := secretOf(other, read(cluster))
		for _, prepare := range []bool{false, true} {
			dir := filepath.Join(t.TempDir(), "pki")
			if prepare {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			before := treetest.Snapshot(t, filepath.Dir(dir))
			out, err := download(cs, dir, key, nil)
			treetest.ErrMentions(t, err, "ca.crt of secret kube-system/kubeadm-certs", "is not the CA of the cluster", "kube-system/kube-root-ca.crt", "upload again on a control-plane node of this cluster", "--kubeconfig", "nothing was written")
			treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(dir)))
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		}
	})

	forbidden := secretOf(other, read(other))
	forbidden.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, RootCAConfigMap, nil)
	})
	for _, tc := range []struct {
		name string
		cs   *fake.Clientset
		note string // the line saying the CA was not compared
	}{
		{name: "the cluster's CA", cs: secretOf(cluster, read(cluster))},
		{name: "old and new CA", cs: secretOf(cluster, append(read(other), read(cluster)...))},
		{name: "no kube-root-ca.crt", cs: secretOf(other, nil), note: "kube-system/kube-root-ca.crt is not there"},
		{name: "kube-root-ca.crt forbidden", cs: forbidden, note: "may not get configmap kube-system/kube-root-ca.crt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pki")
			out, err := download(tc.cs, dir, key, nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "ca.crt")); err != nil {
				t.Error(err)
			}
			notes := strings.Count(out, "Not comparing")
			switch {
			case tc.note == "" && notes != 0:
				t.Errorf("the CA was compared, yet the output says it was not:\n%s", out)
			case tc.note != "" && (notes != 1 || !strings.Contains(out, "[download-certs] Not comparing ca.crt of secret kube-system/kubeadm-certs with the cluster's CA: ") || !strings.Contains(out, tc.note)):
				t.Errorf("want one line saying ca.crt was not compared because %q, got:\n%s", tc.note, out)
			}
		})
	}
}
