package signer

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"time"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// keyUsages and extKeyUsages map the certificates API's usages to x509, as
// kube-controller-manager's signer does
// (pkg/controller/certificates/authority/policies.go). "cert sign" and
// "crl sign" are not here: certctl never issues a CA.
var keyUsages = map[certv1.KeyUsage]x509.KeyUsage{
	certv1.UsageSigning:           x509.KeyUsageDigitalSignature,
	certv1.UsageDigitalSignature:  x509.KeyUsageDigitalSignature,
	certv1.UsageContentCommitment: x509.KeyUsageContentCommitment,
	certv1.UsageKeyEncipherment:   x509.KeyUsageKeyEncipherment,
	certv1.UsageKeyAgreement:      x509.KeyUsageKeyAgreement,
	certv1.UsageDataEncipherment:  x509.KeyUsageDataEncipherment,
	certv1.UsageEncipherOnly:      x509.KeyUsageEncipherOnly,
	certv1.UsageDecipherOnly:      x509.KeyUsageDecipherOnly,
}

var extKeyUsages = map[certv1.KeyUsage]x509.ExtKeyUsage{
	certv1.UsageAny:             x509.ExtKeyUsageAny,
	certv1.UsageServerAuth:      x509.ExtKeyUsageServerAuth,
	certv1.UsageClientAuth:      x509.ExtKeyUsageClientAuth,
	certv1.UsageCodeSigning:     x509.ExtKeyUsageCodeSigning,
	certv1.UsageEmailProtection: x509.ExtKeyUsageEmailProtection,
	certv1.UsageSMIME:           x509.ExtKeyUsageEmailProtection,
	certv1.UsageIPsecEndSystem:  x509.ExtKeyUsageIPSECEndSystem,
	certv1.UsageIPsecTunnel:     x509.ExtKeyUsageIPSECTunnel,
	certv1.UsageIPsecUser:       x509.ExtKeyUsageIPSECUser,
	certv1.UsageTimestamping:    x509.ExtKeyUsageTimeStamping,
	certv1.UsageOCSPSigning:     x509.ExtKeyUsageOCSPSigning,
	certv1.UsageMicrosoftSGC:    x509.ExtKeyUsageMicrosoftServerGatedCrypto,
	certv1.UsageNetscapeSGC:     x509.ExtKeyUsageNetscapeServerGatedCrypto,
}

// ParseUsages converts API usages to x509 key usages and sorted extended
// key usages. "cert sign" and "crl sign" are refused: certctl never issues
// a CA certificate.
func ParseUsages(usages []certv1.KeyUsage) (x509.KeyUsage, []x509.ExtKeyUsage, error) {
	var ku x509.KeyUsage
	var ekus []x509.ExtKeyUsage
	for _, u := range usages {
		if k, ok := keyUsages[u]; ok {
			ku |= k
			continue
		}
		if e, ok := extKeyUsages[u]; ok {
			ekus = append(ekus, e)
			continue
		}
		if u == certv1.UsageCertSign || u == certv1.UsageCRLSign {
			return 0, nil, fmt.Errorf("usage %q is refused: certctl never issues a CA certificate", u)
		}
		return 0, nil, fmt.Errorf("unknown usage %q", u)
	}
	slices.Sort(ekus)
	return ku, slices.Compact(ekus), nil
}

// ValidityFor is the window of a certificate issued at now: it starts
// config.CertificateBackdate earlier, as kubeadm and kube-controller-manager
// do, so that a node whose clock is a little behind accepts it at once;
// it lasts the requested expirationSeconds, or limit when none is
// requested or more is, and never outlives the CA. A request for less
// than policy.MinValidity gets policy.MinValidity (expirationSeconds is a
// hint to the signer). It fails when limit is below policy.MinValidity,
// when the CA has expired, and when the CA expires too soon for a window of
// policy.MinValidity (a *policy.Violation: signer run retries, so the CSR
// waits for a rotated CA).
func ValidityFor(now time.Time, expirationSeconds *int32, limit time.Duration, ca *x509.Certificate) (pki.Validity, error) {
	if err := policy.Validity("maximum validity", limit); err != nil {
		return pki.Validity{}, err
	}
	d := limit
	if expirationSeconds != nil {
		d = min(d, time.Duration(*expirationSeconds)*time.Second)
	}
	d = max(d, policy.MinValidity)
	// CapToCA alone would let a CA that expired less than the backdate ago
	// issue a certificate already expired.
	if err := pki.CAValidAt(ca, now); err != nil {
		return pki.Validity{}, fmt.Errorf("CA %q: %w", ca.Subject.CommonName, err)
	}
	// No error: the CA is valid at now, after the window's NotBefore.
	v, _, _ := pki.CapToCA(pki.NewValidity(now, config.CertificateBackdate, d), ca)
	// The CA's expiry may cut the window below the minimum, as policy.Issued
	// measures it (NotAfter - NotBefore), which renew --use-api and certs
	// import then refuse: sign nothing until the CA is rotated.
	if got := v.NotAfter.Sub(v.NotBefore); got < policy.MinValidity {
		return pki.Validity{}, &policy.Violation{Reason: policy.ReasonValidityNotAllowed, Message: fmt.Sprintf("CA %q expires at %s: a certificate it signs now would be valid for %s, shorter than %s, certctl's minimum; rotate the CA (certctl ca rotate, docs/ca-rotation.md)",
			ca.Subject.CommonName, ca.NotAfter.UTC().Format(time.RFC3339), got, policy.MinValidity)}
	}
	return v, nil
}

// Issue signs a certificate for req with ca and returns it PEM-encoded.
// The certificate has req's subject, its DNS, IP, URI and email SANs, the
// given usages, BasicConstraints CA:FALSE and the validity v. Nothing else
// of req (its other extensions) is copied. req's signature must have been
// checked by the caller.
func Issue(r io.Reader, ca *CA, req *x509.CertificateRequest, usages []certv1.KeyUsage, v pki.Validity) ([]byte, error) {
	return issue(r, ca, req, usages, v, issueAs{})
}

// issueAs says how issue departs from Issue.
type issueAs struct {
	// fits is the control-plane profile a request of certctl's signer
	// names fits (Policy.Check): the certificate has its key usages
	// (kubeadm's, pki.Profile.KeyUsage) and the requested extended key
	// usages, whichever key usages of it were requested, so that what
	// certctl issues for its names passes pki.VerifyIssued (certs import,
	// renew --use-api) and serves TLS. Nil: the requested usages, for a
	// custom signer name, as the user's signing configuration says.
	// certctl never signs kubernetes.io names (policy.Rules.CheckSign):
	// kube-controller-manager issues them the requested usages exactly
	// (pkg/controller/certificates/signer/signer.go, PermissiveSigningPolicy;
	// digital signature and key encipherment are optional for
	// kube-apiserver-client), so such a CSR must ask for digital signature
	// itself, as renew --use-api does.
	fits *pki.Profile
	// keyIDs gives the certificate a subject key identifier and an
	// authority key identifier even when the CA has no SKI (RFC 5280
	// 4.2.1.1, 4.2.1.2; cfssl sets both): certctl adds them for custom
	// signer names and leaves kubeadm's profiles as kubeadm makes them.
	keyIDs bool
}

// issue is Issue, departing from it as o says.
func issue(r io.Reader, ca *CA, req *x509.CertificateRequest, usages []certv1.KeyUsage, v pki.Validity, o issueAs) ([]byte, error) {
	ku, ekus, err := ParseUsages(usages)
	if err != nil {
		return nil, err
	}
	if o.fits != nil {
		ku = o.fits.KeyUsage()
	}
	serial, err := rand.Int(r, big.NewInt(math.MaxInt64-1))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)),
		RawSubject:            req.RawSubject,
		DNSNames:              req.DNSNames,
		IPAddresses:           req.IPAddresses,
		URIs:                  req.URIs,
		EmailAddresses:        req.EmailAddresses,
		NotBefore:             v.NotBefore,
		NotAfter:              v.NotAfter,
		KeyUsage:              ku,
		ExtKeyUsage:           ekus,
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	if o.keyIDs {
		if tmpl.SubjectKeyId, err = policy.KeyID(req.PublicKey); err != nil {
			return nil, fmt.Errorf("sign certificate for %q: %w", req.Subject.CommonName, err)
		}
		// Go copies the CA's SKI when it has one; this is for one without.
		if tmpl.AuthorityKeyId, err = policy.KeyID(ca.Cert.PublicKey); err != nil {
			return nil, fmt.Errorf("sign certificate for %q: %w", req.Subject.CommonName, err)
		}
	}
	der, err := x509.CreateCertificate(r, tmpl, ca.Cert, req.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate for %q: %w", req.Subject.CommonName, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
