package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// KeyMatches reports an error when key is not the private key of cert.
func KeyMatches(cert *x509.Certificate, key crypto.Signer) error {
	if !SamePublicKey(cert.PublicKey, key.Public()) {
		return fmt.Errorf("pki: private key does not match the certificate's public key")
	}
	return nil
}

// IssuedBy checks that ca issued cert (through intermediates): as
// VerifySignedBy, but as of ca's last valid instant once ca has expired. A
// CA that expired while the certificates it signed are still valid
// (kubeadm's certs renew does not cut them to their CA's expiry) still
// issued them: its expiry is its own, and a CA rotation is what replaces
// it. A CA not valid yet (a clock behind) is checked at now: TLS clients on
// the node reject its chain.
func IssuedBy(cert *x509.Certificate, intermediates []*x509.Certificate, ca *x509.Certificate, now time.Time) error {
	return VerifySignedBy(cert, intermediates, ca, minTime(now, ca.NotAfter))
}

// VerifySignedBy checks that cert chains to ca (with the intermediates that
// followed it in its file), for any usage.
//
// A certificate valid at now is verified at now, so the CA must be valid
// then too. Otherwise time is ignored: an expired certificate still belongs
// to its CA, and expiry is reported on its own. It is then verified at an
// instant when every certificate of the chain is valid; when there is none
// (a leaf that expired before its CA's certificate was made again for the
// same key), a certificate issued by ca directly is checked by its issuer
// name and signature alone.
func VerifySignedBy(cert *x509.Certificate, intermediates []*x509.Certificate, ca *x509.Certificate, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	inter := x509.NewCertPool()
	for _, c := range intermediates {
		inter.AddCert(c)
	}
	at := now
	if !(now.After(cert.NotBefore) && now.Before(cert.NotAfter)) {
		var ok bool
		if at, ok = commonInstant(append([]*x509.Certificate{cert, ca}, intermediates...)); !ok {
			if len(intermediates) == 0 {
				return signedDirectly(cert, ca)
			}
			at = cert.NotBefore
		}
	}
	_, err := cert.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		CurrentTime:   at,
	})
	if err != nil {
		if len(intermediates) == 0 && ca.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil {
			if why := reissuedWhy(cert, ca); why != "" {
				return &ReissuedCAError{Cert: cert.Subject.CommonName, CA: ca.Subject.CommonName, Why: why}
			}
			if why, redo := refusedWhy(cert, ca, err); why != "" {
				return &RefusedCertError{Cert: cert.Subject.CommonName, CA: ca.Subject.CommonName, Why: why, Renewable: redo != "", Redo: redo, Err: err}
			}
		}
		return fmt.Errorf("pki: certificate %q is not signed by CA %q: %w", cert.Subject.CommonName, ca.Subject.CommonName, err)
	}
	return nil
}

// ReissuedCAError is VerifySignedBy's error for a certificate that the
// CA's key did sign but that does not chain to the CA certificate: its
// issuer name is encoded differently from the CA's subject, or it names
// the CA by another key identifier. The CA certificate was re-issued with
// the same key (after it expired, say) by a tool that wrote the subject or
// the identifier anew. Go's and OpenSSL's chain building match both byte
// for byte, so every client rejects the chain although the signature is
// good; the fix is a CA certificate that keeps the old ones, not a backup
// of the leaves.
type ReissuedCAError struct {
	Cert, CA, Why string
}

func (e *ReissuedCAError) Error() string {
	return fmt.Sprintf("pki: certificate %q is signed with the key of CA %q, but %s: the CA certificate was re-issued with the same key and TLS clients reject the chain", e.Cert, e.CA, e.Why)
}

// Fix says what to do about it, for the CA certificate caFile (NAME.crt,
// beside its key NAME.key).
func (e *ReissuedCAError) Fix(caFile string) string {
	caKey := strings.TrimSuffix(caFile, ".crt") + ".key"
	return fmt.Sprintf("re-issue the CA certificate from the previous one, which keeps its subject and key identifier (an expired one will do): `openssl x509 -in PREVIOUS-%s -key %s -days 3650 -out %s`; the certificates it signed need no change", filepath.Base(caFile), caKey, caFile)
}

// reissuedWhy says how cert, which ca's key signed, names another CA
// certificate than ca; "" when it names ca, and the chain fails for a
// reason of cert's own (refusedWhy), not a re-issued CA.
func reissuedWhy(cert, ca *x509.Certificate) string {
	if !bytes.Equal(cert.RawIssuer, ca.RawSubject) {
		return "its issuer name is not encoded as the CA certificate's subject"
	}
	if len(cert.AuthorityKeyId) > 0 && !bytes.Equal(cert.AuthorityKeyId, ca.SubjectKeyId) {
		return fmt.Sprintf("it names the CA by key identifier %s while the CA certificate has %s", hexID(cert.AuthorityKeyId), hexID(ca.SubjectKeyId))
	}
	return ""
}

// RefusedCertError is VerifySignedBy's error for a certificate that its
// CA did issue (the CA's key signed it, and it names the CA) but that Go's
// TLS stack, kube-apiserver's, the kubelet's and etcd's, refuses for a
// reason of its own: a SHA-1 signature (an old openssl or cfssl default),
// or a critical extension it does not handle. A certificate made anew for
// the same subject and SANs, as renewal makes it, has neither: the CA
// certificate is fine, and restoring a backup brings the same certificate
// back.
type RefusedCertError struct {
	Cert, CA, Why string
	// Renewable says that renewal, which signs the same subject and SANs
	// anew, fixes it: not so for names outside the CA's name constraints.
	Renewable bool
	// Redo says how a CA must sign it instead ("with SHA-256"), when
	// Renewable: what to ask of an external CA.
	Redo string
	Err  error // crypto/x509's error
}

func (e *RefusedCertError) Error() string {
	return fmt.Sprintf("pki: certificate %q is signed by CA %q, but %s, so TLS clients reject it", e.Cert, e.CA, e.Why)
}

func (e *RefusedCertError) Unwrap() error { return e.Err }

// refusedWhy says what of a certificate made crypto/x509's verification
// fail with err, when it is the certificate's own doing, and how a
// certificate signed anew for the same names fixes it ("" when it does
// not); "" otherwise. Verify's error hides an insecure signature algorithm
// in an unknown authority's hint: CheckSignatureFrom returns it.
func refusedWhy(cert, ca *x509.Certificate, err error) (why, redo string) {
	var insecure x509.InsecureAlgorithmError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(cert.CheckSignatureFrom(ca), &insecure):
		return fmt.Sprintf("it is signed with %s, which Go refuses (https://go.dev/issue/41682)", x509.SignatureAlgorithm(insecure)), "with SHA-256"
	case errors.As(err, new(x509.UnhandledCriticalExtension)):
		return "it has a critical extension that Go does not handle", "without that extension"
	case errors.As(err, &invalid) && invalid.Reason == x509.CANotAuthorizedForThisName:
		return "its SANs are outside the CA's name constraints", ""
	}
	return "", ""
}

func hexID(b []byte) string { return strings.ReplaceAll(fmt.Sprintf("% X", b), " ", ":") }

// commonInstant returns the first instant at which every certificate of
// chain is valid; false when there is none.
func commonInstant(chain []*x509.Certificate) (time.Time, bool) {
	from := slices.MaxFunc(chain, func(a, b *x509.Certificate) int { return a.NotBefore.Compare(b.NotBefore) }).NotBefore
	until := slices.MinFunc(chain, func(a, b *x509.Certificate) int { return a.NotAfter.Compare(b.NotAfter) }).NotAfter
	return from, !from.After(until)
}

// signedDirectly checks, whatever the time, that ca issued cert: its issuer
// is ca's subject and ca's key signed it (CheckSignatureFrom also requires
// ca to be a CA allowed to sign certificates).
func signedDirectly(cert, ca *x509.Certificate) error {
	if !bytes.Equal(cert.RawIssuer, ca.RawSubject) {
		return fmt.Errorf("pki: certificate %q is not signed by CA %q: its issuer is not the CA's subject", cert.Subject.CommonName, ca.Subject.CommonName)
	}
	if err := cert.CheckSignatureFrom(ca); err != nil {
		return fmt.Errorf("pki: certificate %q is not signed by CA %q: %w", cert.Subject.CommonName, ca.Subject.CommonName, err)
	}
	return nil
}

// MissingSANs lists the DNS names and IPs of want that cert does not cover,
// as kubeadm's validateCertificateWithConfig checks an existing cert.
func MissingSANs(cert *x509.Certificate, dns []string, ips []net.IP) []string {
	return slices.DeleteFunc(append(slices.Clone(dns), ipStrings(ips)...), func(name string) bool { return cert.VerifyHostname(name) == nil })
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

func minTime(a, b time.Time) time.Time {
	if a.After(b) {
		return b
	}
	return a
}
