package signer

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

func TestValidityFor(t *testing.T) {
	ca := newTestCA(t, "ca", testNow.Add(30*24*time.Hour))
	secs := func(d time.Duration) *int32 { s := int32(d / time.Second); return &s }
	for _, tc := range []struct {
		name    string
		exp     *int32
		max     time.Duration
		wantEnd time.Time
	}{
		{"max", nil, 7 * 24 * time.Hour, testNow.Add(7 * 24 * time.Hour)},
		{"shorter request", secs(time.Hour), 7 * 24 * time.Hour, testNow.Add(time.Hour)},
		{"longer request capped", secs(20 * 24 * time.Hour), 7 * 24 * time.Hour, testNow.Add(7 * 24 * time.Hour)},
		{"capped at the CA", nil, 365 * 24 * time.Hour, ca.Cert.NotAfter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ValidityFor(testNow, tc.exp, tc.max, ca.Cert)
			if err != nil {
				t.Fatal(err)
			}
			if !v.NotBefore.Equal(testNow.Add(-config.CertificateBackdate)) || !v.NotAfter.Equal(tc.wantEnd) {
				t.Errorf("validity %v - %v, want %v - %v", v.NotBefore, v.NotAfter, testNow.Add(-config.CertificateBackdate), tc.wantEnd)
			}
		})
	}
	// Expired for longer than the backdate, and for less: neither signs.
	for _, ago := range []time.Duration{10 * time.Minute, time.Minute} {
		expired := newTestCA(t, "old", testNow.Add(-ago))
		if _, err := ValidityFor(testNow, nil, time.Hour, expired.Cert); !errors.Is(err, pki.ErrCAExpired) {
			t.Errorf("CA expired %v ago: err = %v, want ErrCAExpired", ago, err)
		}
	}
}

func TestIssue(t *testing.T) {
	ca := newTestCA(t, "kubernetes", testNow.Add(10*365*24*time.Hour))
	p := profile(t, "apiserver")
	req := csrFor(t, p)
	v := pki.NewValidity(testNow, config.CertificateBackdate, time.Hour)
	certPEM, err := Issue(rand.Reader, ca, req, usagesOf(p), v)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := pki.ParseCerts(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := certs[0]
	if c.IsCA || !c.BasicConstraintsValid {
		t.Errorf("IsCA %v, BasicConstraintsValid %v; want a leaf with CA:FALSE", c.IsCA, c.BasicConstraintsValid)
	}
	if c.Subject.CommonName != "kube-apiserver" || !slices.Equal(c.DNSNames, p.DNSNames) || len(c.IPAddresses) != len(p.IPs) {
		t.Errorf("subject %q, DNS %q, IPs %v; want the request's", c.Subject, c.DNSNames, c.IPAddresses)
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment || !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("usages %v %v", c.KeyUsage, c.ExtKeyUsage)
	}
	if !c.NotBefore.Equal(v.NotBefore) || !c.NotAfter.Equal(v.NotAfter) {
		t.Errorf("validity %v - %v, want %v - %v", c.NotBefore, c.NotAfter, v.NotBefore, v.NotAfter)
	}
	if err := pki.VerifySignedBy(c, nil, ca.Cert, testNow); err != nil {
		t.Error(err)
	}
	if !pki.SamePublicKey(c.PublicKey, req.PublicKey) {
		t.Error("certificate is not for the request's key")
	}
	if _, err := Issue(rand.Reader, ca, req, []certv1.KeyUsage{certv1.UsageCertSign}, v); err == nil || !strings.Contains(err.Error(), "never issues a CA") {
		t.Errorf("cert sign usage: err = %v", err)
	}
}

func TestLoadCA(t *testing.T) {
	dir := t.TempDir()
	s := pki.Store{Dir: dir}
	ca := newTestCA(t, "kubernetes", testNow.Add(time.Hour))
	other := newTestCA(t, "other", testNow.Add(time.Hour))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.WriteCert("ca", ca.Cert))
	must(s.WriteKey("ca", ca.Key))
	must(s.WriteKey("other", other.Key))
	must(s.WriteCert("two", ca.Cert, other.Cert))
	leaf, err := Issue(rand.Reader, ca, csrFor(t, profile(t, "admin")), []certv1.KeyUsage{certv1.UsageClientAuth}, pki.NewValidity(testNow, 0, time.Minute))
	must(err)
	leafCert, _ := pki.ParseCerts(leaf)
	must(s.WriteCert("leaf", leafCert[0]))

	if _, err := LoadCA(s.CertPath("ca"), s.KeyPath("ca"), testNow, false); err != nil {
		t.Errorf("good pair: %v", err)
	}
	for _, tc := range []struct{ name, cert, key, want string }{
		{"missing cert", s.CertPath("nope"), s.KeyPath("ca"), "read CA certificate"},
		{"missing key", s.CertPath("ca"), s.KeyPath("nope"), "read private key"},
		{"wrong key", s.CertPath("ca"), s.KeyPath("other"), "does not match"},
		{"two certificates", s.CertPath("two"), s.KeyPath("ca"), "holds 2 certificates"},
		{"not a CA", s.CertPath("leaf"), s.KeyPath("ca"), "not a CA"},
	} {
		if _, err := LoadCA(tc.cert, tc.key, testNow, false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := LoadCA(s.CertPath("ca"), s.KeyPath("ca"), testNow.Add(2*time.Hour), false); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired: err = %v", err)
	}
}
