package policy

import (
	"cmp"
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/certctl/certctl/pki"
)

// Issued applies, to a certificate a CA outside certctl issued (certs
// import; what the certificates API returns), the rules certctl's own
// signers apply to what they issue: no cert sign or crl sign key usage
// (with or without CA:TRUE: OpenSSL takes a certificate with cert sign and
// no basic constraints for a CA), no "any" extended key usage, no URI or
// email SAN, no DNS or IP SAN that want does not ask for (the subject's CN
// as a DNS name is accepted: many CAs copy it), at most one CN, and a
// validity of at least MinValidity. What is missing (a SAN, a usage asked
// for) is pki.VerifyIssued's to say. It returns a *Violation listing every
// problem, on one line, and saying to have it signed again.
func Issued(cert *x509.Certificate, want pki.Profile) error {
	if v := issued(cert, want); v != nil {
		v.Message += "; have it signed again as its request asks"
		return v
	}
	return nil
}

// IssuedForCSR is Issued for the certificate a CSR of the certificates
// API was issued, which never changes: signing the same request again is
// no way out, so its message does not say so, and the caller says what
// is (a new key and CSR).
func IssuedForCSR(cert *x509.Certificate, want pki.Profile) error {
	if v := issued(cert, want); v != nil {
		return v
	}
	return nil
}

// issued is the *Violation of Issued and IssuedForCSR, without what to
// do; nil when cert passes.
func issued(cert *x509.Certificate, want pki.Profile) *Violation {
	var problems []string
	var reason string
	add := func(r, p string) {
		reason = cmp.Or(reason, r)
		problems = append(problems, p)
	}
	if ca := cert.KeyUsage & (x509.KeyUsageCertSign | x509.KeyUsageCRLSign); ca != 0 {
		var names []string
		if ca&x509.KeyUsageCertSign != 0 {
			names = append(names, "cert sign")
		}
		if ca&x509.KeyUsageCRLSign != 0 {
			names = append(names, "crl sign")
		}
		add(ReasonCARequested, fmt.Sprintf("it has the key usages %s, a CA's: certctl never installs a CA certificate as a leaf", strings.Join(names, ", ")))
	}
	if slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny) {
		add(ReasonUsageNotAllowed, `it has the extended key usage "any", which lets it serve and authenticate as anything`)
	}
	asked := SANList(want.DNSNames, want.IPs)
	if cert.Subject.CommonName != "" {
		asked = append(asked, SANName("DNS", cert.Subject.CommonName))
	}
	extra := slices.DeleteFunc(SANList(cert.DNSNames, cert.IPAddresses), func(s string) bool { return slices.Contains(asked, s) })
	for _, u := range cert.URIs {
		extra = append(extra, "URI:"+u.String())
	}
	for _, e := range cert.EmailAddresses {
		extra = append(extra, SANName("email", e))
	}
	if len(extra) > 0 {
		add(ReasonSANNotAllowed, fmt.Sprintf("it has SANs not asked for: %s", strings.Join(extra, ", ")))
	}
	if n := countCN(cert.Subject.Names); n > 1 {
		add(ReasonSubjectNotAllowed, fmt.Sprintf("its subject %q has %d CNs, on which readers disagree", cert.Subject.String(), n))
	}
	if d := cert.NotAfter.Sub(cert.NotBefore); d < MinValidity {
		add(ReasonValidityNotAllowed, fmt.Sprintf("it is valid for %s, shorter than %s, certctl's minimum", d, MinValidity))
	}
	if len(problems) == 0 {
		return nil
	}
	return &Violation{reason, fmt.Sprintf("certificate for %q refused: %s", want.Name, strings.Join(problems, "; "))}
}

// SANList spells DNS and IP SANs as messages show them: "DNS:name",
// "IP:address" (SANName). Two spellings of one IP address (4 or 16 bytes)
// are one.
func SANList(dnsNames []string, ips []net.IP) []string {
	var s []string
	for _, d := range dnsNames {
		s = append(s, SANName("DNS", d))
	}
	for _, ip := range ips {
		s = append(s, "IP:"+ip.String())
	}
	return s
}

// SANName spells a SAN of kind ("DNS", "email") as messages show it:
// "DNS:name", with name quoted when it holds a character that is not
// printable (pki.OneLine: a DNS or email SAN is an IA5String, which may
// hold a line break).
func SANName(kind, name string) string { return kind + ":" + pki.OneLine(name) }
