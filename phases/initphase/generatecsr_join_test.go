package initphase

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/phases/config"
)

// TestGenerateCSRJoining: `certs generate-csr` for a node that joins
// (a JoinConfiguration) writes what `init-phase certs all --use-csr` and
// `init-phase kubeconfig all --use-csr` write for it, as its help says:
// no super-admin.conf (the first node's alone) and no kubelet.conf, which
// the kubelet makes by TLS bootstrap and whose presence fails kubeadm
// join's preflight checks once imported.
func TestGenerateCSRJoining(t *testing.T) {
	dir := t.TempDir()
	c := config.Default()
	c.NodeName, c.AdvertiseAddress, c.Joining = "cp-2", "192.0.2.11", true
	c.CertificatesDir, c.EncryptionAlgorithm = filepath.Join(dir, "pki"), "ECDSA-P256"
	csrDir := filepath.Join(dir, "csr")
	var out bytes.Buffer
	o := Options{CSRDir: csrDir, KubeconfigDir: dir, Now: time.Now, Rand: rand.Reader, Out: &out, ErrOut: &out}
	if err := GenerateCSR(context.Background(), func() (*config.Cluster, error) { return &c, nil }, o); err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	for _, name := range []string{"admin.conf.csr", "controller-manager.conf.csr", "scheduler.conf.csr", "apiserver.csr", "etcd/peer.csr"} {
		if _, err := os.Stat(filepath.Join(csrDir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"super-admin.conf", "super-admin.conf.csr", "kubelet.conf", "kubelet.conf.csr"} {
		if _, err := os.Stat(filepath.Join(csrDir, name)); !os.IsNotExist(err) {
			t.Errorf("%s written for a joining node (%v)", name, err)
		}
	}
}
