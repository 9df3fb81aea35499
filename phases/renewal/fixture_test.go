package renewal

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// made is when fixtures are made; tests renew later.
var made = pkitest.Made

// node is a test node (internal/pkitest).
type node struct{ *pkitest.Node }

func newNode(t *testing.T, change func(c *config.Cluster)) *node {
	t.Helper()
	return &node{pkitest.NewNode(t, change)}
}

func (n *node) certDir() string        { return n.CertDir() }
func (n *node) path(rel string) string { return n.Path(rel) }

// options renews n at now.
func (n *node) options(now time.Time) Options {
	return Options{CertDir: n.certDir(), KubeconfigDir: n.Dir, Now: func() time.Time { return now }, Rand: rand.Reader,
		Out: &bytes.Buffer{}}
}

func (n *node) targets(t *testing.T, names ...string) []Target {
	t.Helper()
	sel, err := Select(pki.Kubeadm(), names, n.Cluster.ExternalEtcd)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// cert reads the certificate of a target: a .crt under pki/, or a
// kubeconfig's embedded client certificate.
func (n *node) cert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	if strings.HasSuffix(name, ".conf") {
		cfg, err := kubeconfig.Load(n.path(name))
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := kubeconfig.ClientCert(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c, _, err := pki.ReadCertFile(n.path("pki/" + name + ".crt"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
