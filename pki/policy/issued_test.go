package policy

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestIssued: what an external CA returns may carry nothing certctl's
// signers never issue; a CN copied into a DNS SAN, as many CAs do, is
// accepted.
func TestIssued(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	want := pki.Profile{Name: "apiserver", CommonName: "kube-apiserver", DNSNames: []string{"kubernetes", "cp-1"}, IPs: []net.IP{net.ParseIP("10.96.0.1").To4()}}
	good := func() *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: "kube-apiserver", Names: []pkix.AttributeTypeAndValue{{Type: oidCN, Value: "kube-apiserver"}}},
			DNSNames: []string{"cp-1", "kubernetes"}, IPAddresses: []net.IP{net.ParseIP("10.96.0.1")},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			NotBefore: start, NotAfter: start.Add(365 * 24 * time.Hour)}
	}
	for _, tc := range []struct {
		name   string
		change func(c *x509.Certificate)
		reason string // "" when accepted
		says   string
	}{
		{"as asked", func(*x509.Certificate) {}, "", ""},
		{"CN copied into a DNS SAN", func(c *x509.Certificate) { c.DNSNames = append(c.DNSNames, "kube-apiserver") }, "", ""},
		{"fewer SANs (VerifyIssued's)", func(c *x509.Certificate) { c.DNSNames = c.DNSNames[:1] }, "", ""},
		{"cert sign", func(c *x509.Certificate) { c.KeyUsage |= x509.KeyUsageCertSign }, ReasonCARequested, "key usages cert sign"},
		{"crl sign", func(c *x509.Certificate) { c.KeyUsage |= x509.KeyUsageCRLSign }, ReasonCARequested, "key usages crl sign"},
		{"any", func(c *x509.Certificate) { c.ExtKeyUsage = append(c.ExtKeyUsage, x509.ExtKeyUsageAny) }, ReasonUsageNotAllowed, `"any"`},
		{"foreign IP", func(c *x509.Certificate) { c.IPAddresses = append(c.IPAddresses, net.ParseIP("203.0.113.9")) }, ReasonSANNotAllowed, "IP:203.0.113.9"},
		{"URI", func(c *x509.Certificate) { c.URIs = []*url.URL{{Scheme: "spiffe", Host: "x"}} }, ReasonSANNotAllowed, "URI:spiffe://x"},
		{"email", func(c *x509.Certificate) { c.EmailAddresses = []string{"a@example.com"} }, ReasonSANNotAllowed, "email:a@example.com"},
		// Errors are one line: a SAN that would break it (a log line of
		// its own, "[renew] ...") is quoted.
		{"a DNS SAN with a newline", func(c *x509.Certificate) { c.DNSNames = append(c.DNSNames, "x\n[renew] all renewed") }, ReasonSANNotAllowed, `DNS:"x\n[renew] all renewed"`},
		{"an email SAN with a newline", func(c *x509.Certificate) { c.EmailAddresses = []string{"a@b\r\n[renew] ok"} }, ReasonSANNotAllowed, `email:"a@b\r\n[renew] ok"`},
		{"two CNs", func(c *x509.Certificate) {
			c.Subject.Names = append(c.Subject.Names, pkix.AttributeTypeAndValue{Type: oidCN, Value: "x"})
		}, ReasonSubjectNotAllowed, "2 CNs"},
		{"ten minutes", func(c *x509.Certificate) { c.NotAfter = start.Add(10 * time.Minute) }, ReasonValidityNotAllowed, "valid for 10m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.change(c)
			err := Issued(c, want)
			var v *Violation
			switch {
			case tc.reason == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.reason != "" && (!errors.As(err, &v) || v.Reason != tc.reason || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), `"apiserver"`)):
				t.Errorf("err = %v, want reason %s saying %q", err, tc.reason, tc.says)
			}
		})
	}
}
