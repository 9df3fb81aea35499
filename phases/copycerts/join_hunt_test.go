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
