package pki

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// selfSigned makes a self-signed certificate from tmpl with a new ECDSA key.
func selfSigned(t *testing.T, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	key, err := GenerateKey(rand.Reader, ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(1)
	tmpl.Subject = pkix.Name{CommonName: "test-ca"}
	tmpl.NotBefore, tmpl.NotAfter = fixedNow.Add(-time.Hour), fixedNow.Add(time.Hour)
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

func TestCAProblem(t *testing.T) {
	tests := []struct {
		name string
		tmpl x509.Certificate
		want string // "" when the certificate is a CA
	}{
		{"CA:TRUE and cert sign", x509.Certificate{BasicConstraintsValid: true, IsCA: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}, ""},
		// What `openssl req -x509` makes without -addext keyUsage: RFC 5280
		// says no key usage extension means any usage.
		{"CA:TRUE without key usage extension", x509.Certificate{BasicConstraintsValid: true, IsCA: true}, ""},
		{"key usage without cert sign", x509.Certificate{BasicConstraintsValid: true, IsCA: true,
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
			"its key usage extension lacks cert sign (it has only digital signature, key encipherment)"},
		{"CA:FALSE", x509.Certificate{BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, "CA:FALSE"},
		{"no basic constraints", x509.Certificate{KeyUsage: x509.KeyUsageCertSign}, "no basic constraints extension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := selfSigned(t, &tt.tmpl)
			got := CAProblem(c)
			if tt.want == "" && got != "" {
				t.Fatalf("CAProblem = %q, want none", got)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("CAProblem = %q, want it to say %q", got, tt.want)
			}
			// The rule is the one crypto/x509 applies when it verifies a chain.
			if err := c.CheckSignatureFrom(c); (err == nil) != (got == "") {
				t.Errorf("CheckSignatureFrom = %v, but CAProblem = %q", err, got)
			}
		})
	}
}

func TestCAValidAt(t *testing.T) {
	ca := &x509.Certificate{NotAfter: fixedNow}
	for _, tt := range []struct {
		name string
		now  time.Time
		want error
	}{
		{"before expiry", fixedNow.Add(-time.Second), nil},
		{"at expiry", fixedNow, ErrCAExpired},
		{"after expiry", fixedNow.Add(time.Minute), ErrCAExpired},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := CAValidAt(ca, tt.now); !errors.Is(err, tt.want) {
				t.Errorf("CAValidAt = %v, want %v", err, tt.want)
			}
		})
	}
}
