package external

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// now is when the tests write CSRs and import: a month after the node was made.
var now = pkitest.Made.Add(30 * 24 * time.Hour)

func clock() time.Time { return now }

// extNode is a test node whose CA keys were taken away, as an external CA
// keeps them: the tests sign with them as the CA operator would.
type extNode struct {
	*pkitest.Node
	caKeys  map[string]crypto.Signer // by CA base name: "ca", "etcd/ca"
	caCerts map[string]*x509.Certificate
	csrDir  string
}

func newExtNode(t *testing.T) *extNode {
	t.Helper()
	n := &extNode{Node: pkitest.NewNode(t, nil), caKeys: map[string]crypto.Signer{}, caCerts: map[string]*x509.Certificate{},
		csrDir: filepath.Join(t.TempDir(), "csr")}
	s := pki.Store{Dir: n.CertDir()}
	for _, base := range []string{"ca", "front-proxy-ca", "etcd/ca"} {
		n.caCerts[base], n.caKeys[base] = n.CA(t, base)
		if err := os.Remove(s.KeyPath(base)); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func (n *extNode) targets(t *testing.T, names ...string) []renewal.Target {
	t.Helper()
	sel, err := renewal.Select(pki.Kubeadm(), names, n.Cluster.ExternalEtcd)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

func (n *extNode) csrOptions() renewal.Options {
	return renewal.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: clock, Rand: rand.Reader, SkipMissing: true}
}

func (n *extNode) importOptions() ImportOptions {
	return ImportOptions{CSRDir: n.csrDir, Options: renewal.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: clock, Rand: rand.Reader}}
}

// writeCSRs writes the CSRs of names (renew --use-csr).
func (n *extNode) writeCSRs(t *testing.T, names ...string) *CSRResult {
	t.Helper()
	res, err := WriteCSRs(context.Background(), n.targets(t, names...), n.csrDir, n.csrOptions())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// change alters what the CA operator signs.
type change func(tmpl *x509.Certificate)

// signAll signs every request of the CSR folder as asked.
func (n *extNode) signAll(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(n.csrDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, reqfile.Suffix) {
			n.sign(t, p, nil, nil)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sign signs the request at reqPath as a CA operator reading it would,
// with ca's key (the request's CA when ca is nil), after ch changes the
// template, and writes the certificate where the request says.
func (n *extNode) sign(t *testing.T, reqPath string, ch change, ca *issuer) {
	t.Helper()
	req, err := reqfile.Read(reqPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := req.Profile()
	if err != nil {
		t.Fatal(err)
	}
	if ca == nil {
		base := strings.TrimSuffix(req.CA.File, ".crt")
		ca = &issuer{cert: n.caCerts[base], key: n.caKeys[base]}
	}
	dir := filepath.Dir(reqPath)
	signCSR(t, filepath.Join(dir, req.CSR), filepath.Join(dir, req.Certificate), p.RequiredKeyUsage, p.ExtKeyUsages, ch, ca)
}

// signCSR signs the CSR at csrPath with the subject and SANs it asks for
// and the given usages, valid from an hour before now for a year, after ch
// changes the template, and writes the certificate to certPath.
func signCSR(t *testing.T, csrPath, certPath string, ku x509.KeyUsage, eku []x509.ExtKeyUsage, ch change, ca *issuer) {
	t.Helper()
	csr, err := pki.ReadCSRFile(csrPath)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: csr.Subject.CommonName, Organization: csr.Subject.Organization},
		DNSNames:     csr.DNSNames, IPAddresses: csr.IPAddresses,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage: ku, ExtKeyUsage: eku,
		BasicConstraintsValid: true,
	}
	pub := csr.PublicKey
	if ch != nil {
		ch(tmpl)
		if tmpl.PublicKey != nil { // another key than the CSR's
			pub = tmpl.PublicKey
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	if err := os.WriteFile(certPath, pki.EncodeCert(cert), 0o644); err != nil {
		t.Fatal(err)
	}
}

// issuer is a CA the operator signs with.
type issuer struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newIssuer(t *testing.T, cn string) *issuer {
	t.Helper()
	key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.NewSelfSignedCA(rand.Reader, pki.Profile{Name: cn, CommonName: cn, IsCA: true}, key,
		pki.NewValidity(pkitest.Made, time.Hour, 10*365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return &issuer{cert: cert, key: key}
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertMentions(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%q does not mention %q", s, p)
		}
	}
}

// readCSRKey reads a new key of the CSR folder: a key file, or a
// kubeconfig's client-key-data.
func readCSRKey(kubeconfigFile bool, path string) (crypto.Signer, error) {
	var s reqfile.Slot = reqfile.KeyFile{}
	if kubeconfigFile {
		s = reqfile.KeyKubeconfig{}
	}
	key, _, err := s.ReadKey(path)
	return key, err
}

// intermediate is a CA that the node's CA base ("ca") signs, as an
// organisation's issuing CA under its root, after ch changes its template.
func (n *extNode) intermediate(t *testing.T, base, cn string, ch change) *issuer {
	t.Helper()
	key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true, IsCA: true,
	}
	if ch != nil {
		ch(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, n.caCerts[base], key.Public(), n.caKeys[base])
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &issuer{cert: cert, key: key}
}

// appendCerts appends certs, in PEM, to the file at path.
func appendCerts(t *testing.T, path string, certs ...*x509.Certificate) {
	t.Helper()
	data := read(t, path)
	for _, c := range certs {
		data = append(data, pki.EncodeCert(c)...)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
