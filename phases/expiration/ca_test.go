package expiration

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestCARule: check-expiration judges a CA by certctl's one rule
// (pki.CAProblem), as init-phase, sign and signer enable do: a CA without a
// key usage extension is fine (RFC 5280: any usage), one whose key usage
// lacks certSign is not.
func TestCARule(t *testing.T) {
	tests := []struct {
		name string
		ku   x509.KeyUsage
		want string // "" when no problem
	}{
		{"no key usage extension", 0, ""},
		{"key usage with cert sign", x509.KeyUsageCertSign, ""},
		{"key usage without cert sign", x509.KeyUsageDigitalSignature, "lacks cert sign"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			s := pki.Store{Dir: n.CertDir()}
			old, key := n.CA(t, "front-proxy-ca")
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "front-proxy-ca"},
				NotBefore: old.NotBefore, NotAfter: old.NotAfter, BasicConstraintsValid: true, IsCA: true, KeyUsage: tt.ku}
			c := pkitest.SelfSigned(t, key, tmpl)
			if err := s.WriteCert("front-proxy-ca", c); err != nil {
				t.Fatal(err)
			}
			info := check(t, n, func(o *Options) { o.Now = pkitest.Made.Add(time.Hour) })
			var problems []Problem
			for _, ca := range info.CertificateAuthorities {
				if ca.Name == "front-proxy-ca" {
					problems = ca.Problems
				}
			}
			if tt.want == "" {
				if len(problems) > 0 {
					t.Errorf("problems %+v, want none", problems)
				}
				return
			}
			if len(problems) != 1 || problems[0].Type != NotACA || !strings.Contains(problems[0].Message, tt.want) {
				t.Errorf("problems %+v, want one %s saying %q", problems, NotACA, tt.want)
			}
		})
	}
}
