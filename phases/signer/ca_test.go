package signer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestLoadCAKeyUsage: `certctl sign` and `signer enable` (both LoadCA)
// accept a CA exactly when init-phase does (pki.CAProblem): CA:TRUE, and
// certSign when there is a key usage extension. RFC 5280 reads a missing
// key usage extension as any usage, which is what `openssl req -x509` makes
// without -addext keyUsage.
func TestLoadCAKeyUsage(t *testing.T) {
	tests := []struct {
		name string
		tmpl x509.Certificate
		want string // "" when accepted
	}{
		{"no key usage extension", x509.Certificate{BasicConstraintsValid: true, IsCA: true}, ""},
		{"cert sign", x509.Certificate{BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign}, ""},
		{"key usage without cert sign", x509.Certificate{BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign},
			"its key usage extension lacks cert sign (it has only digital signature, crl sign)"},
		{"CA:FALSE", x509.Certificate{BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, "CA:FALSE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			tmpl := tt.tmpl
			tmpl.SerialNumber = big.NewInt(7)
			tmpl.Subject = pkix.Name{CommonName: "openssl-ca"}
			tmpl.NotBefore, tmpl.NotAfter = testNow.Add(-time.Hour), testNow.Add(time.Hour)
			cert := pkitest.SelfSigned(t, key, &tmpl)
			s := pki.Store{Dir: t.TempDir()}
			if err := s.WriteCert("ca", cert); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteKey("ca", key); err != nil {
				t.Fatal(err)
			}
			ca, err := LoadCA(s.CertPath("ca"), s.KeyPath("ca"), testNow, false)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), s.CertPath("ca")) {
					t.Errorf("err = %v, want one naming %s and saying %q", err, s.CertPath("ca"), tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// And it signs: the certificate issued chains to it.
			leaf, err := Issue(rand.Reader, ca, csrFor(t, profile(t, "admin")), usagesOf(profile(t, "admin")), pki.NewValidity(testNow, 0, time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			certs, _ := pki.ParseCerts(leaf)
			if err := pki.VerifySignedBy(certs[0], nil, ca.Cert, testNow); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestLoadCARefusesFIFO: a FIFO in place of the CA certificate or key
// (`sign`, `signer run`, `signer enable` read them) is refused at once,
// naming it, instead of blocking the command until something writes to it.
func TestLoadCARefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	s := pki.Store{Dir: dir}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)}
	if err := s.WriteCert("ca", pkitest.SelfSigned(t, key, &tmpl)); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteKey("ca", key); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	treetest.FIFO(t, fifo)
	for _, tt := range []struct{ cert, key string }{{fifo, s.KeyPath("ca")}, {s.CertPath("ca"), fifo}} {
		for name, bundle := range map[string]bool{"LoadCA": false, "LoadCA with bundle": true} {
			call := fmt.Sprintf("%s(%s, %s)", name, tt.cert, tt.key)
			err := treetest.Unblocked(t, call, func() error { _, err := LoadCA(tt.cert, tt.key, testNow, bundle); return err })
			if !errors.Is(err, pki.ErrNotRegular) || !strings.Contains(err.Error(), fifo) {
				t.Errorf("%s: %v; want ErrNotRegular naming %s", call, err, fifo)
			}
		}
	}
}
