package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
		err := Download(context.Background(), cs, Options{Now: downloaded, CertDir: certDir, KubeconfigDir: kubeconfigDir, Key: key, Rand: rand.Reader, Out: &out, ErrOut: &out, DryRun: dryRun})
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

// TestDownloadNamesUnreadableKubeconfigs: a kubeconfig file of kubeadm's
// that does not load (garbage, a FIFO) is no proof of this cluster either:
// refused as well, with why, rather than said to trust another CA.
func TestDownloadNamesUnreadableKubeconfigs(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cs := fake.NewClientset()
	key := testKey(t)
	upload(t, cs, n.CertDir(), key)
	kcDir := t.TempDir()
	admin := filepath.Join(kcDir, pki.AdminKubeconfig)
	if err := os.WriteFile(admin, []byte("{not: [a kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(kcDir, pki.Kubeadm().Restarting(pki.KubeScheduler))
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, kcDir)
	var out bytes.Buffer
	err := Download(context.Background(), cs, Options{Now: downloaded, CertDir: filepath.Join(kcDir, "pki"), KubeconfigDir: kcDir, Key: key, Rand: rand.Reader, Out: &out, ErrOut: &out})
	treetest.ErrMentions(t, err, "parse kubeconfig "+admin, fifo, "not a regular file", "nothing was written")
	if err != nil && strings.Contains(err.Error(), "trust another cluster's CA") {
		t.Errorf("unreadable files said to trust another CA: %v", err)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, kcDir))
}
