package pki

import (
	"crypto/x509"
	"fmt"
	"net"
)

// CSRDiffers says how the CSR r differs from what want asks for; "" when it
// asks for the same subject (CN, O) and exactly the same SANs, in any
// order. It is the one rule for keeping a CSR that an earlier run wrote,
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
	return ""
}

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
