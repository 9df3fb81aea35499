package pki

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"net/url"
	"strings"
	"testing"
)

func TestCSRDiffers(t *testing.T) {
	key, err := GenerateKey(rand.Reader, ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{CommonName: "kube-apiserver", DNSNames: []string{"a", "b"}, IPs: []net.IP{net.ParseIP("10.0.0.1").To4()}}
	tests := []struct {
		name string
		edit func(p *Profile)
		diff string // "" for the same request
	}{
		{"same", func(p *Profile) {}, ""},
		{"SANs in another order", func(p *Profile) { p.DNSNames = []string{"b", "a"} }, ""},
		{"a SAN more", func(p *Profile) { p.DNSNames = []string{"a", "b", "c"} }, "SANs"},
		{"a SAN less", func(p *Profile) { p.DNSNames = []string{"a"} }, "SANs"},
		{"another CN", func(p *Profile) { p.CommonName = "x" }, `CN "x"`},
		{"another O", func(p *Profile) { p.Organization = []string{"o"} }, "O "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := want
			tt.edit(&p)
			r, err := NewCSR(rand.Reader, p, key)
			if err != nil {
				t.Fatal(err)
			}
			d := CSRDiffers(r, want)
			if tt.diff == "" && d != "" || tt.diff != "" && !strings.Contains(d, tt.diff) {
				t.Errorf("CSRDiffers = %q, want %q", d, tt.diff)
			}
		})
	}

	// A CSR made or edited by hand (openssl req -addext) that asks for
	// more than certctl's requests do, which an external CA signs as
	// asked: it was kept as "the same request".
	uri, _ := url.Parse("spiffe://cluster.local/ns/x/sa/y")
	for _, tt := range []struct {
		name string
		edit func(r *x509.CertificateRequest)
		diff string
	}{
		{"challenge password, harmless", func(r *x509.CertificateRequest) {
			r.Attributes = []pkix.AttributeTypeAndValueSET{{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 7}, Value: [][]pkix.AttributeTypeAndValue{{{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 7}, Value: "x"}}}}}
		}, ""},
		{"a URI SAN more", func(r *x509.CertificateRequest) { r.URIs = []*url.URL{uri} }, "URI SANs [spiffe://cluster.local/ns/x/sa/y]"},
		{"an email SAN more", func(r *x509.CertificateRequest) { r.EmailAddresses = []string{"a@b.c"} }, "email SANs [a@b.c]"},
		{"CA:TRUE asked for", func(r *x509.CertificateRequest) {
			r.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: []byte{0x30, 0x03, 0x01, 0x01, 0xff}}}
		}, "extension 2.5.29.19"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: want.CommonName}, DNSNames: want.DNSNames, IPAddresses: want.IPs}
			tt.edit(tmpl)
			der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
			if err != nil {
				t.Fatal(err)
			}
			r, err := x509.ParseCertificateRequest(der)
			if err != nil {
				t.Fatal(err)
			}
			d := CSRDiffers(r, want)
			if tt.diff == "" && d != "" || tt.diff != "" && !strings.Contains(d, tt.diff) {
				t.Errorf("CSRDiffers = %q, want %q", d, tt.diff)
			}
		})
	}
}
