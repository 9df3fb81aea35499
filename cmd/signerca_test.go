package cmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
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
	"github.com/certctl/certctl/pki"
)

// TestSignerCARule: `signer enable` and `sign` accept a CA certificate
// without a key usage extension, which `openssl req -x509` makes and
// init-phase signs with (pki.CAProblem), and refuse one whose key usage
// lacks certSign, saying so.
func TestSignerCARule(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join("..", "manifests", "testdata", "kubeadm-external-ca.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ku   x509.KeyUsage
		want string // "" when accepted
	}{
		{"no key usage extension", 0, ""},
		{"key usage without cert sign", x509.KeyUsageDigitalSignature, "its key usage extension lacks cert sign (it has only digital signature)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := pki.Store{Dir: filepath.Join(dir, "pki")}
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "openssl-ca"},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
				BasicConstraintsValid: true, IsCA: true, KeyUsage: tt.ku}
			cert := pkitest.SelfSigned(t, key, tmpl)
			if err := s.WriteCert("ca", cert); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteKey("ca", key); err != nil {
				t.Fatal(err)
			}
			manifest := filepath.Join(dir, "kube-controller-manager.yaml")
			if err := os.WriteFile(manifest, orig, 0o600); err != nil {
				t.Fatal(err)
			}

			out, _, err := runCertctl(t, "signer", "enable", "--cert-dir", s.Dir, "--manifest", manifest, "--dry-run")
			if tt.want == "" {
				if err != nil || !strings.Contains(out, "--cluster-signing-cert-file="+s.CertPath("ca")) {
					t.Errorf("signer enable: err = %v, output:\n%s", err, out)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), s.CertPath("ca")) {
				t.Errorf("signer enable: err = %v, want one naming %s and saying %q", err, s.CertPath("ca"), tt.want)
			}

			// sign reads the CA before it connects to the API server: an
			// empty --kubeconfig passes the flag's check, not the connection.
			empty := filepath.Join(dir, "empty.conf")
			if err := os.WriteFile(empty, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err = runCertctl(t, "sign", "some-csr", "--ca-cert", s.CertPath("ca"), "--ca-key", s.KeyPath("ca"), "--kubeconfig", empty)
			if err == nil {
				t.Fatal("sign without an API server succeeded")
			}
			if tt.want == "" && strings.Contains(err.Error(), "not a CA certificate") || tt.want != "" && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("sign: err = %v, want the CA %s", err, map[bool]string{true: "accepted", false: "refused"}[tt.want == ""])
			}
		})
	}
}
