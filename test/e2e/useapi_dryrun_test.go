package e2e

import (
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestUseAPIDryRun: `renew all --use-api --dry-run` against a running API
// server is the renewal's check pass: it lists every certificate it would
// renew, its files and the signer its CSR would name (the inventory's
// kubernetes.io or certctl signer, or --signer-name), exits 0, and creates
// no CertificateSigningRequest, no pending key and no file.
func TestUseAPIDryRun(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 2*time.Minute)
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, c.KubeconfigDir())
	out, err := runCertctl(t, ctx, "renew", "all", "--use-api", "--dry-run", "--kubeconfig", c.Kubeconfig("admin.conf"),
		"--signer-name", "front-proxy-client=example.com/front-proxy", "--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir())
	if err != nil {
		t.Fatalf("renew --use-api --dry-run: %v", err)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, c.KubeconfigDir()))
	store := pki.Store{Dir: c.PKIDir()}
	for _, want := range []string{
		"[dry-run] admin.conf would be renewed: " + c.Kubeconfig("admin.conf") + ", from the certificates API, signer " + certv1.KubeAPIServerClientSignerName,
		"[dry-run] apiserver would be renewed: " + store.CertPath("apiserver") + ", " + store.KeyPath("apiserver") + ", from the certificates API, signer " + pki.SignerKubeAPIServerServing,
		"[dry-run] etcd-peer would be renewed: " + store.CertPath("etcd/peer") + ", " + store.KeyPath("etcd/peer") + ", from the certificates API, signer " + pki.SignerEtcdPeer,
		"[dry-run] front-proxy-client would be renewed: " + store.CertPath("front-proxy-client") + ", " + store.KeyPath("front-proxy-client") + ", from the certificates API, signer example.com/front-proxy",
		"[dry-run] 11 certificate(s) would be renewed; nothing was written",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	csrs, err := cs.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range csrs.Items {
		t.Errorf("renew --use-api --dry-run left CSR %s (signer %s)", r.Name, r.Spec.SignerName)
	}
}
