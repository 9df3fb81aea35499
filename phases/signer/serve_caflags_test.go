package signer

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestServeCAFlagsSignWithTheirCA: each of certctl's signer names signs
// with one CA (docs/signer.md, "certctl's signer names"), and `certctl
// sign` refuses another (TestSignRefusesAnotherCAForCertctlName). signer
// run took any CA its --*-ca-cert/--*-ca-key flags named: --etcd-ca-cert
// on the cluster CA signed etcd's names with it (client certificates the
// API server accepts, under etcd's names), and one CA given for two flags
// signed both CAs' names. A flag's CA must now be the one of its file in
// the node's certificate folder (none of the folder's other CAs where that
// file is absent), and no CA is given for two flags.
func TestServeCAFlagsSignWithTheirCA(t *testing.T) {
	later := time.Now().Add(24 * time.Hour)
	clusterCA, etcdCA, frontCA := newTestCA(t, "kubernetes", later), newTestCA(t, "etcd-ca", later), newTestCA(t, "front-proxy-ca", later)
	certDir := t.TempDir()
	store := pki.Store{Dir: certDir}
	inv := pki.Kubeadm()
	for name, ca := range map[string]*CA{pki.CAName: clusterCA, pki.EtcdCAName: etcdCA} {
		if err := store.WriteCert(inv.BaseName(name), ca.Cert); err != nil {
			t.Fatal(err)
		}
	}
	// Each CA's pair, outside the certificate folder, as the flags name them.
	pair := func(ca *CA) [2]string {
		s := pki.Store{Dir: t.TempDir()}
		writePair(t, s, ca)
		return [2]string{s.CertPath("ca"), s.KeyPath("ca")}
	}
	cluster, etcd, front := pair(clusterCA), pair(etcdCA), pair(frontCA)
	// A CA of front-proxy-ca's name with the cluster CA's key.
	clusterKey := pair(&CA{Cert: pkitest.SelfSigned(t, clusterCA.Key, &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "front-proxy-ca"},
		BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: later}), Key: clusterCA.Key})
	for _, c := range []struct {
		name    string
		dir     string
		files   map[string][2]string
		mention []string // nil: accepted
	}{
		{"etcd flag on the cluster CA", certDir, map[string][2]string{pki.EtcdCAName: cluster},
			[]string{"--etcd-ca-cert", "etcd-ca", filepath.Join(certDir, "etcd", "ca.crt"), `"kubernetes"`}},
		{"cluster flag on the etcd CA", certDir, map[string][2]string{pki.CAName: etcd},
			[]string{"--ca-cert", filepath.Join(certDir, "ca.crt"), `"etcd-ca"`}},
		{"front-proxy flag on the cluster CA, front-proxy-ca.crt absent", certDir, map[string][2]string{pki.FrontProxyCAName: cluster},
			[]string{"--front-proxy-ca-cert", `"kubernetes"`, filepath.Join(certDir, "ca.crt")}},
		{"one CA for two flags", t.TempDir(), map[string][2]string{pki.CAName: front, pki.FrontProxyCAName: front},
			[]string{"--ca-cert", "--front-proxy-ca-cert", `"front-proxy-ca"`}},
		{"front-proxy flag on a CA with the cluster CA's key, front-proxy-ca.crt absent", certDir, map[string][2]string{pki.FrontProxyCAName: clusterKey},
			[]string{"--front-proxy-ca-cert", filepath.Join(certDir, "ca.crt"), "key"}},
		{"two flags on CAs of one key", t.TempDir(), map[string][2]string{pki.CAName: cluster, pki.FrontProxyCAName: clusterKey},
			[]string{"--ca-cert", "--front-proxy-ca-cert", "key"}},
		{"each flag on its CA", certDir, map[string][2]string{pki.CAName: cluster, pki.EtcdCAName: etcd, pki.FrontProxyCAName: front}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := ServeOptions{Cluster: &config.Cluster{CertificatesDir: c.dir}, CAFiles: c.files, Out: io.Discard, ErrOut: io.Discard}
			cas, _, err := o.loadCAs(CASourceOptions{})
			if c.mention == nil {
				if err != nil || len(cas) != len(c.files) {
					t.Fatalf("loadCAs: %d CA(s), %v; want %d", len(cas), err, len(c.files))
				}
				return
			}
			treetest.ErrMentions(t, err, c.mention...)
		})
	}
}

// TestServeRefusesCustomSignerOnNodeCA: a --signer of the user's whose CA
// is one of the node's (the cluster CA in --cert-dir, or one named by a
// --*-ca-cert flag) signed, for any approved CSR of that name, whatever
// subject and usages it asked for with a CA the API server, etcd or the
// front proxy trusts: a client certificate for system:kube-controller-manager,
// say, without the control-plane profile that certctl's own names apply.
// signer run now refuses it before it connects; a CA of its own is taken.
func TestServeRefusesCustomSignerOnNodeCA(t *testing.T) {
	later := time.Now().Add(24 * time.Hour)
	clusterCA, own := newTestCA(t, "kubernetes", later), newTestCA(t, "example CA", later)
	certDir := t.TempDir()
	writePair(t, pki.Store{Dir: certDir}, clusterCA)
	ownDir := pki.Store{Dir: t.TempDir()}
	writePair(t, ownDir, own)
	s := pki.Store{Dir: certDir}
	interDir, sameKeyDir := pki.Store{Dir: t.TempDir()}, pki.Store{Dir: t.TempDir()}
	writePair(t, interDir, intermediateCA(t, clusterCA, "example intermediate", later))
	writePair(t, sameKeyDir, sameKeyCA(t, clusterCA, "example CA", later))
	for _, c := range []struct {
		name    string
		o       ServeOptions
		mention []string // nil: accepted
	}{
		{"the cluster CA of --cert-dir", ServeOptions{Cluster: &config.Cluster{CertificatesDir: certDir},
			Custom: []string{"example.com/serving=" + s.CertPath("ca") + "," + s.KeyPath("ca")}},
			[]string{"example.com/serving", `"kubernetes"`, "a CA of its own"}},
		{"the cluster CA of --ca-cert, elsewhere", ServeOptions{Cluster: &config.Cluster{CertificatesDir: t.TempDir()},
			CAFiles: map[string][2]string{pki.CAName: {s.CertPath("ca"), s.KeyPath("ca")}},
			Custom:  []string{"example.com/serving=" + s.CertPath("ca") + "," + s.KeyPath("ca")}},
			[]string{"example.com/serving", `"kubernetes"`}},
		{"a CA of its own", ServeOptions{Cluster: &config.Cluster{CertificatesDir: certDir},
			Custom: []string{"example.com/serving=" + ownDir.CertPath("ca") + "," + ownDir.KeyPath("ca")}}, nil},
		// kube-apiserver takes a client's intermediates from its TLS
		// chain: an intermediate of the cluster CA is trusted as it is.
		{"an intermediate CA the cluster CA of --cert-dir issued", ServeOptions{Cluster: &config.Cluster{CertificatesDir: certDir},
			Custom: []string{"example.com/serving=" + interDir.CertPath("ca") + "," + interDir.KeyPath("ca")}},
			[]string{"example.com/serving", `"example intermediate"`, `"kubernetes"`, s.CertPath("ca"), "a CA of its own"}},
		{"an intermediate CA the cluster CA of --ca-cert issued", ServeOptions{Cluster: &config.Cluster{CertificatesDir: t.TempDir()},
			CAFiles: map[string][2]string{pki.CAName: {s.CertPath("ca"), s.KeyPath("ca")}},
			Custom:  []string{"example.com/serving=" + interDir.CertPath("ca") + "," + interDir.KeyPath("ca")}},
			[]string{"example.com/serving", `"example intermediate"`, `"kubernetes"`}},
		{"a CA of another name with the cluster CA's key", ServeOptions{Cluster: &config.Cluster{CertificatesDir: certDir},
			Custom: []string{"example.com/serving=" + sameKeyDir.CertPath("ca") + "," + sameKeyDir.KeyPath("ca")}},
			[]string{"example.com/serving", `"kubernetes"`, "a CA of its own"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			o.ListenAddress, o.Out, o.ErrOut = "127.0.0.1:0", io.Discard, io.Discard
			connected := errors.New("connected")
			o.NewClient = func() (kubernetes.Interface, error) { return nil, connected }
			err := Serve(t.Context(), o)
			if c.mention == nil {
				if !errors.Is(err, connected) {
					t.Fatalf("Serve: %v, want it to go on and connect", err)
				}
				return
			}
			if errors.Is(err, connected) {
				t.Fatal("Serve connected with a custom signer on a node CA")
			}
			treetest.ErrMentions(t, err, c.mention...)
		})
	}
}
