package pki

import (
	"crypto/rand"
	"net"
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
}
