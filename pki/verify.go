package pki

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"net"
	"time"
)

// KeyMatches reports an error when key is not the private key of cert.
func KeyMatches(cert *x509.Certificate, key crypto.Signer) error {
	if !SamePublicKey(cert.PublicKey, key.Public()) {
		return fmt.Errorf("pki: private key does not match the certificate's public key")
	}
	return nil
}

// VerifySignedBy checks that cert chains to ca (with the intermediates that
// followed it in its file), for any usage.
func VerifySignedBy(cert *x509.Certificate, intermediates []*x509.Certificate, ca *x509.Certificate, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	inter := x509.NewCertPool()
	for _, c := range intermediates {
		inter.AddCert(c)
	}
	// Chain checks ignore time: an expired cert still "belongs" to its CA;
	// expiry is reported on its own.
	at := cert.NotBefore
	if now.After(cert.NotBefore) && now.Before(cert.NotAfter) {
		at = now
	}
	_, err := cert.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		CurrentTime:   at,
	})
	if err != nil {
		return fmt.Errorf("pki: certificate %q is not signed by CA %q: %w", cert.Subject.CommonName, ca.Subject.CommonName, err)
	}
	return nil
}

// MissingSANs lists the DNS names and IPs of want that cert does not cover,
// as kubeadm's validateCertificateWithConfig checks an existing cert.
func MissingSANs(cert *x509.Certificate, dns []string, ips []net.IP) []string {
	var missing []string
	for _, d := range dns {
		if cert.VerifyHostname(d) != nil {
			missing = append(missing, d)
		}
	}
	for _, ip := range ips {
		if cert.VerifyHostname(ip.String()) != nil {
			missing = append(missing, ip.String())
		}
	}
	return missing
}

// ValidAt reports an error when now is outside the certificate's window.
func ValidAt(cert *x509.Certificate, now time.Time) error {
	if now.Before(cert.NotBefore) {
		return fmt.Errorf("pki: certificate is not valid before %s", cert.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(cert.NotAfter) {
		return fmt.Errorf("pki: certificate expired on %s", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}
