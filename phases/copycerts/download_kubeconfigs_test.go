package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestDownloadRefusesForeignKubeconfigs: kubeconfig files of another
// cluster left in the node's kubeconfig folder were not looked at, so a
// download wrote the cluster's CAs beside an admin.conf that trusts
// another CA (init-phase kubeconfig then keeps or refuses it, later). As
// for leaf certificates, download refuses, naming each such file, and
// writes nothing; the cluster's own kubeconfigs, and one whose CA is a
// file rather than embedded, pass.
func TestDownloadRefusesForeignKubeconfigs(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	other := pkitest.NewNode(t, nil)
	cs := fake.NewClientset()
	key := testKey(t)
	upload(t, cs, n.CertDir(), key)

	run := func(certDir, kubeconfigDir string, dryRun bool) (string, error) {
		var out bytes.Buffer
		err := Download(context.Background(), cs, Options{CertDir: certDir, KubeconfigDir: kubeconfigDir, Key: key, Rand: rand.Reader, Out: &out, ErrOut: &out, DryRun: dryRun})
		return out.String(), err
	}

	parent := t.TempDir()
	certDir, kcDir := filepath.Join(parent, "pki"), parent
	admin, scheduler := filepath.Join(kcDir, pki.AdminKubeconfig), filepath.Join(kcDir, pki.Kubeadm().Restarting(pki.KubeScheduler))
	copyFile(t, other.Path(pki.AdminKubeconfig), admin)
	copyFile(t, other.Path(pki.Kubeadm().Restarting(pki.KubeScheduler)), scheduler)
	before := treetest.Snapshot(t, parent)
	for _, dryRun := range []bool{true, false} {
		out, err := run(certDir, kcDir, dryRun)
		treetest.ErrMentions(t, err, admin, scheduler, "another cluster's", "nothing was written")
		treetest.AssertSame(t, before, treetest.Snapshot(t, parent))
		if t.Failed() {
			t.Fatalf("dry run %v; output:\n%s", dryRun, out)
		}
	}

	// Beside another cluster's leaf certificate too: both named.
	if err := os.MkdirAll(certDir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(other.CertDir(), "apiserver.crt"), filepath.Join(certDir, "apiserver.crt"))
	_, err := run(certDir, kcDir, false)
	treetest.ErrMentions(t, err, admin, scheduler, filepath.Join(certDir, "apiserver.crt"), "nothing was written")
	if err := os.RemoveAll(certDir); err != nil {
		t.Fatal(err)
	}

	// The cluster's own kubeconfigs, and one naming its CA file: written.
	copyFile(t, n.Path(pki.AdminKubeconfig), admin)
	cfg, err := kubeconfig.Load(scheduler)
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range cfg.Clusters {
		cl.CertificateAuthorityData, cl.CertificateAuthority = nil, filepath.Join(certDir, "ca.crt")
	}
	if err := kubeconfig.Write(scheduler, cfg); err != nil {
		t.Fatal(err)
	}
	if out, err := run(certDir, kcDir, false); err != nil {
		t.Errorf("download beside the cluster's own kubeconfigs: %v\n%s", err, out)
	}
}
