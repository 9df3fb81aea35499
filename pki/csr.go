package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"net"
)

// CSRDiffers says how the CSR r differs from what want asks for; "" when it
// asks for the same subject (CN, O), exactly the same DNS and IP SANs, in
// any order, and nothing else: no URI or email SAN, no other extension
// (CA:TRUE, key usages), which an external CA would sign as asked. It is the one rule for keeping a CSR that an earlier run wrote,
// for init-phase and renew alike: a CSR with SANs beyond want's would
// bring back a certificate that check-expiration reports as drifted from
// its configuration (renew's want is the current certificate's profile).
func CSRDiffers(r *x509.CertificateRequest, want Profile) string {
	if r.Subject.CommonName != want.CommonName {
		return fmt.Sprintf("CN %q, want %q", r.Subject.CommonName, want.CommonName)
	}
	if !sameSet(r.Subject.Organization, want.Organization) {
		return fmt.Sprintf("O %q, want %q", r.Subject.Organization, want.Organization)
	}
	if !sameSet(r.DNSNames, want.DNSNames) || !sameSet(ipStrings(r.IPAddresses), ipStrings(want.IPs)) {
		return fmt.Sprintf("SANs %v %v, want %v %v", r.DNSNames, r.IPAddresses, want.DNSNames, want.IPs)
	}
	// certctl asks for DNS and IP SANs only, and for no other extension:
	// an external CA signs what a request made or edited by hand adds.
	if len(r.URIs) > 0 {
		return fmt.Sprintf("URI SANs %v, want none", r.URIs)
	}
	if len(r.EmailAddresses) > 0 {
		return fmt.Sprintf("email SANs %v, want none", r.EmailAddresses)
	}
	for _, e := range r.Extensions {
		if !e.Id.Equal(oidSubjectAltName) {
			return fmt.Sprintf("extension %s, which certctl does not ask for", e.Id)
		}
	}
	return ""
}

// oidSubjectAltName is the subject alternative name extension (RFC 5280,
// 4.2.1.6), the only one certctl's requests carry.
var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

func ipStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

// ReadCSRFile reads a PEM CSR file and checks its signature.
func ReadCSRFile(path string) (*x509.CertificateRequest, error) {
	return ReadParsed(path, "certificate request", ParseCSR)
}
