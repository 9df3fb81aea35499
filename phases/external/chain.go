package external

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/pki"
)

// leafFirst reorders certs, a certificate file's, when the certificate
// of pub is not first (a PKCS#7 bundle converted by openssl often lists
// the root first): that certificate, then its issuers in chain order, then
// any others as they were. It reports whether it moved anything.
func leafFirst(certs []*x509.Certificate, pub crypto.PublicKey) ([]*x509.Certificate, bool) {
	if len(certs) < 2 || pki.SamePublicKey(certs[0].PublicKey, pub) {
		return certs, false
	}
	i := slices.IndexFunc(certs, func(c *x509.Certificate) bool { return pki.SamePublicKey(c.PublicKey, pub) })
	if i < 0 {
		return certs, false
	}
	rest := slices.Delete(slices.Clone(certs), i, i+1)
	out := []*x509.Certificate{certs[i]}
	for {
		last := out[len(out)-1]
		j := slices.IndexFunc(rest, func(c *x509.Certificate) bool {
			return !c.Equal(last) && bytes.Equal(last.RawIssuer, c.RawSubject) && last.CheckSignatureFrom(c) == nil
		})
		if j < 0 {
			break
		}
		out = append(out, rest[j])
		rest = slices.Delete(rest, j, j+1)
	}
	return append(out, rest...), true
}

// chainHint says why certs (a certificate file: the leaf, then its
// intermediates) do not chain to ca, when the reason is one an operator
// of an organisation's CA meets: an intermediate CA left out of the file,
// or one that expired (or is not valid yet), or the CA certificate that
// did. "" when the chain is good or
// the reason is another (another CA signed it).
func chainHint(certs []*x509.Certificate, ca *x509.Certificate, caPath, file string, now time.Time) string {
	if pki.VerifySignedBy(certs[0], certs[1:], ca, now) == nil {
		return ""
	}
	if err := pki.ValidAt(ca, now); err != nil {
		return fmt.Sprintf("the CA certificate %s %s: every component rejects the certificates it signs: put there a new certificate of the CA, from your CA operator, and have this one signed again if the CA key changed", caPath, strings.TrimPrefix(err.Error(), "pki: certificate "))
	}
	for _, c := range certs[1:] {
		if err := pki.ValidAt(c, now); err != nil && c.IsCA {
			return fmt.Sprintf("the CA %q in %s %s: put its current certificate there", c.Subject.CommonName, file, strings.TrimPrefix(err.Error(), "pki: certificate "))
		}
	}
	if top := certs[len(certs)-1]; !bytes.Equal(top.RawIssuer, ca.RawSubject) && top.CheckSignatureFrom(ca) != nil {
		return fmt.Sprintf("it is issued by %q: if that is an intermediate CA under %q, put its certificate (and any CA between) after the certificate in %s", top.Issuer.String(), ca.Subject.CommonName, file)
	}
	return ""
}
