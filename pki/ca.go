package pki

import (
	"cmp"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"
	"strings"
	"time"
)

// oidKeyUsage is the key usage extension (RFC 5280, 4.2.1.3).
var oidKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 15}

// CAProblem says what keeps cert from signing certificates, or "" when
// nothing does. It is certctl's one rule for a CA, wherever a CA is read: the
// basic constraint CA:TRUE and, when the certificate has a key usage
// extension, the certSign usage in it.
//
// A certificate without a key usage extension may be used for any purpose
// (RFC 5280, 4.2.1.3). `openssl req -x509` makes CAs like that unless told
// `-addext keyUsage=...`, and crypto/x509 accepts them when it verifies a
// chain (x509.Certificate.CheckSignatureFrom), so certctl accepts them too.
func CAProblem(cert *x509.Certificate) string {
	switch {
	case !cert.BasicConstraintsValid:
		return "it has no basic constraints extension, so not CA:TRUE"
	case !cert.IsCA:
		return "its basic constraints say CA:FALSE, not CA:TRUE"
	case slices.ContainsFunc(cert.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oidKeyUsage) }) && cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return fmt.Sprintf("its key usage extension lacks cert sign (it has only %s)", cmp.Or(strings.Join(keyUsages(cert.KeyUsage), ", "), "none"))
	}
	return ""
}

// CAValidAt fails with ErrCAExpired when ca has expired at now. An expired
// CA signs nothing, whatever the NotBefore of what it would sign: CapToCA
// alone would let it sign a certificate whose window starts before the CA's
// expiry (a backdated leaf, or a kubeconfig client certificate, which starts
// at the CA's NotBefore) and that is expired the moment it is written.
func CAValidAt(ca *x509.Certificate, now time.Time) error {
	if !ca.NotAfter.After(now) {
		return fmt.Errorf("%w on %s", ErrCAExpired, ca.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}
