package phases

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestExpiredCASignsNothing: an expired CA signs neither a leaf nor the
// client certificate of a kubeconfig, even one whose window would start
// before the CA's expiry (kubeconfigs start at the CA's NotBefore, leaves
// five minutes before the run). The check pass refuses before any write.
// The error says to rotate the CA, as renew says: it said "renew the CA
// first", which certctl renew refuses (it does not renew CAs).
func TestExpiredCASignsNothing(t *testing.T) {
	tests := []struct {
		name    string
		after   time.Duration // since the CA's expiry
		group   string
		phase   string
		want    []string
		certsOK bool // make the leaves before the CA expires
	}{
		{"kubeconfig all", time.Hour, "kubeconfig", "all", []string{"admin.conf", "ca.crt", "CA certificate has expired on", "rotate the CA first: `certctl ca rotate ca --cert-dir "}, true},
		{"kubeconfig admin, CA expired a minute ago", time.Minute, "kubeconfig", "admin", []string{"admin.conf", "ca.crt", "expired"}, true},
		{"certs all, CA expired a minute ago", time.Minute, "certs", "all", []string{"apiserver.crt", "ca.crt", "expired", "rotate the CA first: `certctl ca rotate ca --cert-dir "}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.Cluster.CACertificateValidity = time.Hour
			e.mustRun(t, "certs", "ca")
			if tt.certsOK {
				e.mustRun(t, "certs", "all")
			}
			ca, _, err := pki.ReadCertFile(e.pki("ca.crt"))
			if err != nil {
				t.Fatal(err)
			}
			e.Now = func() time.Time { return ca.NotAfter.Add(tt.after) }
			before := snapshot(t, e.dir)
			e.out.Reset()
			err = e.run(t, tt.group, tt.phase)
			treetest.ErrMentions(t, err, tt.want...)
			assertSameTree(t, before, snapshot(t, e.dir))
			if strings.Contains(e.out.String(), "would outlive") {
				t.Errorf("warned about a cut instead of refusing:\n%s", e.out)
			}
		})
	}
}

// TestCAKeyWithoutCert: a CA key whose certificate is missing (a run killed
// between the two writes, or a certificate removed by hand) gets a
// certificate for that key, by `all` as by the CA's own phase, and an
// existing leaf is kept when it verifies against that certificate, refused
// when it does not. kubeadm v1.37 refuses every such case.
func TestCAKeyWithoutCert(t *testing.T) {
	leaf := []string{"front-proxy-client.crt", "front-proxy-client.key", "front-proxy-ca.key"}
	tests := []struct {
		name    string
		spoil   func(t *testing.T, e *testEnv)
		phases  []string // run in order; the last one's result is checked
		wantErr []string // nil: success, keeping the leaf
	}{
		{"all", nil, []string{"all"}, nil},
		{"CA phase, then all", nil, []string{"front-proxy-ca", "all"}, nil},
		// The leaf expired before the CA certificate is made again: it still
		// belongs to that key, and is kept with a warning, as any expired leaf.
		{"all, expired leaf", func(t *testing.T, e *testEnv) {
			e.Now = func() time.Time { return fixedNow.Add(2 * 365 * 24 * time.Hour) }
		}, []string{"all"}, nil},
		{"CA phase, then all, expired leaf", func(t *testing.T, e *testEnv) {
			e.Now = func() time.Time { return fixedNow.Add(2 * 365 * 24 * time.Hour) }
		}, []string{"front-proxy-ca", "all"}, nil},
		{"all, leaf signed by another key", func(t *testing.T, e *testEnv) {
			copyFile(t, e.pki("etcd/ca.key"), e.pki("front-proxy-ca.key"))
		}, []string{"all"}, []string{"front-proxy-client.crt", "front-proxy-ca.key", "front-proxy-ca.crt", "not signed"}},
		{"CA phase, then all, leaf signed by another key", func(t *testing.T, e *testEnv) {
			copyFile(t, e.pki("etcd/ca.key"), e.pki("front-proxy-ca.key"))
		}, []string{"front-proxy-ca", "all"}, []string{"front-proxy-client.crt", "front-proxy-ca.crt", "not signed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.mustRun(t, "certs", "all")
			removeAll(t, e.pki("front-proxy-ca.crt"))
			if tt.spoil != nil {
				tt.spoil(t, e)
			}
			kept := map[string][]byte{}
			for _, f := range leaf {
				kept[f], _ = os.ReadFile(e.pki(f))
			}
			for _, name := range tt.phases[:len(tt.phases)-1] {
				e.mustRun(t, "certs", name)
			}
			before := snapshot(t, e.dir)
			err := e.run(t, "certs", tt.phases[len(tt.phases)-1])
			if tt.wantErr != nil {
				treetest.ErrMentions(t, err, tt.wantErr...)
				assertSameTree(t, before, snapshot(t, e.dir))
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, e.out)
			}
			for f, want := range kept {
				if got, _ := os.ReadFile(e.pki(f)); string(got) != string(want) {
					t.Errorf("%s was replaced", f)
				}
			}
			ca, _, err := pki.ReadCertFile(e.pki("front-proxy-ca.crt"))
			if err != nil {
				t.Fatal(err)
			}
			caKey, _ := pki.ReadKeyFile(e.pki("front-proxy-ca.key"))
			if err := pki.KeyMatches(ca, caKey); err != nil {
				t.Errorf("front-proxy-ca.crt is not for the existing key: %v", err)
			}
			cert, _, _ := pki.ReadCertFile(e.pki("front-proxy-client.crt"))
			if err := pki.VerifySignedBy(cert, nil, ca, e.Now()); err != nil {
				t.Errorf("kept front-proxy-client.crt does not verify: %v", err)
			}
		})
	}
}

// TestCAKeyWithoutCertDryRun: the dry run plans the CA certificate only.
func TestCAKeyWithoutCertDryRun(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun(t, "certs", "all")
	removeAll(t, e.pki("front-proxy-ca.crt"))
	before := snapshot(t, e.dir)
	e.out.Reset()
	e.DryRun = true
	e.mustRun(t, "certs", "all")
	assertSameTree(t, before, snapshot(t, e.dir))
	if !strings.Contains(e.out.String(), "1 file(s) would be written:\n[dry-run]   "+e.pki("front-proxy-ca.crt")+"\n") {
		t.Errorf("dry-run plan:\n%s", e.out)
	}
}

// writeCA replaces BASE.crt with a self-signed certificate for BASE.key
// made from tmpl: a CA of someone else's making.
func writeCA(t *testing.T, e *testEnv, base string, tmpl x509.Certificate) {
	t.Helper()
	s := e.store()
	key, err := s.ReadKey(base)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(42)
	tmpl.Subject = pkix.Name{CommonName: "kubernetes"}
	tmpl.NotBefore, tmpl.NotAfter = fixedNow.Add(-time.Hour), fixedNow.Add(10*365*24*time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteCert(base, c); err != nil {
		t.Fatal(err)
	}
}

// TestCARule: a CA needs CA:TRUE, and certSign when it has a key usage
// extension (pki.CAProblem), in the CA's phase, the leaves' and the
// kubeconfigs'.
func TestCARule(t *testing.T) {
	tests := []struct {
		name  string
		tmpl  x509.Certificate
		group string
		phase string
		want  []string // nil: accepted, and it signs
	}{
		{"no key usage extension (openssl req -x509)", x509.Certificate{BasicConstraintsValid: true, IsCA: true}, "certs", "all", nil},
		{"no key usage extension, kubeconfig", x509.Certificate{BasicConstraintsValid: true, IsCA: true}, "kubeconfig", "all", nil},
		{"key usage without cert sign", x509.Certificate{BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageDigitalSignature},
			"certs", "all", []string{"ca.crt", "not a CA certificate", "lacks cert sign"}},
		{"key usage without cert sign, leaf phase", x509.Certificate{BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageDigitalSignature},
			"certs", "apiserver", []string{"ca.crt", "lacks cert sign"}},
		{"key usage without cert sign, kubeconfig", x509.Certificate{BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageDigitalSignature},
			"kubeconfig", "admin", []string{"ca.crt", "lacks cert sign"}},
		{"CA:FALSE", x509.Certificate{BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign},
			"certs", "all", []string{"ca.crt", "CA:FALSE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.mustRun(t, "certs", "ca")
			writeCA(t, e, "ca", tt.tmpl)
			before := snapshot(t, e.dir)
			err := e.run(t, tt.group, tt.phase)
			if tt.want != nil {
				treetest.ErrMentions(t, err, tt.want...)
				assertSameTree(t, before, snapshot(t, e.dir))
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, e.out)
			}
			ca, _, _ := pki.ReadCertFile(e.pki("ca.crt"))
			if tt.group == "certs" {
				cert, _, _ := pki.ReadCertFile(e.pki("apiserver.crt"))
				if err := pki.VerifySignedBy(cert, nil, ca, fixedNow); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestLeafPhaseCAKeyWithoutCert: a leaf phase run alone, when its CA's
// certificate is missing but the key is there, says to run the CA's phase,
// which makes the certificate for that key, rather than to replace the tree.
func TestLeafPhaseCAKeyWithoutCert(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun(t, "certs", "all")
	removeAll(t, e.pki("front-proxy-ca.crt"))
	before := snapshot(t, e.dir)
	err := e.run(t, "certs", "front-proxy-client")
	treetest.ErrMentions(t, err, "front-proxy-ca.crt", "front-proxy-ca.key", "`certctl init-phase certs front-proxy-ca --cert-dir "+e.Cluster.CertificatesDir+" --kubeconfig-dir "+e.dir+"`", "for that key")
	assertSameTree(t, before, snapshot(t, e.dir))
}
