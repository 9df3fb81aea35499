package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

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
	up := func(cs *fake.Clientset, certDir string) error {
		var out bytes.Buffer
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
	}
}
