// Package pkitest makes, for tests, a control-plane node's /etc/kubernetes
// with certctl's own init phases: a fixed clock and ECDSA keys, which are
// made in microseconds (RSA is covered by the kill test and end to end).
package pkitest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// Made is when nodes are made.
var Made = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// Node is a kubeconfig folder (Dir) with the certificate folder Dir/pki.
type Node struct {
	Cluster *config.Cluster
	Dir     string
}

// NewNode makes every certificate, key and kubeconfig of kubeadm's
// inventory in a temporary folder, for node cp-1 at 198.51.100.10. change,
// when not nil, edits the settings first.
func NewNode(t testing.TB, change func(c *config.Cluster)) *Node {
	t.Helper()
	return NewNodeOf(t, pki.Kubeadm(), change)
}

// NewNodeOf is NewNode with the files of inventory inv.
func NewNodeOf(t testing.TB, inv pki.Inventory, change func(c *config.Cluster)) *Node {
	t.Helper()
	dir := t.TempDir()
	c := config.Default()
	c.CertificatesDir = filepath.Join(dir, "pki")
	c.NodeName = "cp-1"
	c.AdvertiseAddress = "198.51.100.10"
	c.EncryptionAlgorithm = string(pki.ECDSAP256)
	if change != nil {
		change(&c)
	}
	node, err := c.Node()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := &phases.Env{Cluster: &c, KubeconfigDir: dir, Now: func() time.Time { return Made }, Rand: rand.Reader, Out: &out}
	// Two runs, as `init-phase certs` then `init-phase kubeconfig`: the
	// kubeconfig phases need the CA on disk.
	for _, ps := range [][]phases.Phase{phases.CertPhases(inv.Certificates(node)), phases.KubeconfigPhases(inv.Kubeconfigs(node))} {
		if err := phases.Run(context.Background(), env, ps); err != nil {
			t.Fatalf("make test node: %v\n%s", err, out.String())
		}
	}
	return &Node{Cluster: &c, Dir: dir}
}

// CertDir is the certificate folder.
func (n *Node) CertDir() string { return n.Cluster.CertificatesDir }

// Path joins rel to Dir: "admin.conf", "pki/apiserver.crt".
func (n *Node) Path(rel string) string { return filepath.Join(n.Dir, rel) }

// SelfSigned makes the certificate tmpl describes, signed by key itself,
// as a CA made by hand (openssl req -x509) would be.
func SelfSigned(t testing.TB, key crypto.Signer, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// CA reads the node's CA base ("ca", "front-proxy-ca", "etcd/ca"): its
// certificate and key.
func (n *Node) CA(t testing.TB, base string) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	s := pki.Store{Dir: n.CertDir()}
	cert, _, err := s.ReadCert(base)
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.ReadKey(base)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// APIKubeconfig writes a copy of the node's admin.conf that points at
// server, with a client certificate valid in v, and returns its path: a
// kubeconfig for an API server the test runs (or a closed port).
func (n *Node) APIKubeconfig(t testing.TB, server string, v pki.Validity) string {
	t.Helper()
	cfg, err := kubeconfig.Load(n.Path("admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	caCert, caKey := n.CA(t, "ca")
	cur, key, err := kubeconfig.ClientCert(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.Sign(rand.Reader, pki.ProfileFromCert("admin", "admin.conf", "ca", cur), key.Public(), caCert, caKey, v)
	if err != nil {
		t.Fatal(err)
	}
	_, cluster, _, user, _ := kubeconfig.Current(cfg)
	cluster.Server = server
	user.ClientCertificateData = pki.EncodeCert(cert)
	path := filepath.Join(t.TempDir(), "api.conf")
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}
