package cmd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/copycerts"
	"github.com/certctl/certctl/pki"
)

// serveKubeadmCerts uploads n's shared files with key and serves the
// resulting kube-system/kubeadm-certs Secret over plain HTTP; it returns a
// kubeconfig file for that server.
func serveKubeadmCerts(t *testing.T, n *pkitest.Node, key string) string {
	t.Helper()
	k, err := copycerts.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cs := fake.NewClientset()
	var out bytes.Buffer
	if _, err := copycerts.Upload(context.Background(), cs, copycerts.Options{CertDir: n.CertDir(), Key: k, Now: time.Now, Rand: rand.Reader, Out: &out}); err != nil {
		t.Fatalf("upload: %v\n%s", err, out.String())
	}
	secret, err := cs.CoreV1().Secrets(copycerts.Namespace).Get(context.Background(), copycerts.SecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	secret.APIVersion, secret.Kind = "v1", "Secret"
	body, err := json.Marshal(secret)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The bootstrap token may get kubeadm-certs alone (kubeadm's
		// Role), not the token that owns it.
		if strings.HasPrefix(r.URL.Path, "/api/v1/namespaces/"+copycerts.Namespace+"/secrets/bootstrap-token-") {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/namespaces/"+copycerts.Namespace+"/secrets/"+copycerts.SecretName {
			http.Error(w, "not in this test", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	kc := filepath.Join(t.TempDir(), "bootstrap.conf")
	conf := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + srv.URL +
		"\nusers:\n- name: u\n  user:\n    token: abcdef.0123456789abcdef\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
	if err := os.WriteFile(kc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return kc
}

// TestCertsDownloadForeignKubeconfigs: certs download did not look at the
// node's kubeconfig folder, so the cluster's CAs were written beside an
// admin.conf of another cluster. With --kubeconfig-dir (default
// /etc/kubernetes) such a file is refused, named, and nothing is written.
func TestCertsDownloadForeignKubeconfigs(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	other := pkitest.NewNode(t, nil)
	key := "ab" + string(bytes.Repeat([]byte("cd"), 31))
	kc := serveKubeadmCerts(t, n, key)

	node := t.TempDir()
	certDir := filepath.Join(node, "pki")
	admin := filepath.Join(node, pki.AdminKubeconfig)
	data, err := os.ReadFile(other.Path(pki.AdminKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(admin, data, 0o600); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, node)
	_, errOut, err := execute(t, "certs", "download", "--certificate-key", key, "--kubeconfig", kc, "--cert-dir", certDir, "--kubeconfig-dir", node)
	treetest.ErrMentions(t, err, admin, "another cluster's", "nothing was written")
	treetest.AssertSame(t, before, treetest.Snapshot(t, node))
	if t.Failed() {
		t.Logf("stderr:\n%s", errOut)
	}

	// The cluster's own admin.conf: the download goes through.
	data, err = os.ReadFile(n.Path(pki.AdminKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(admin, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := execute(t, "certs", "download", "--certificate-key", key, "--kubeconfig", kc, "--cert-dir", certDir, "--kubeconfig-dir", node); err != nil {
		t.Errorf("download beside the cluster's admin.conf: %v\n%s%s", err, out, errOut)
	}
}
