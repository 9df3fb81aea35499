package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"slices"
	"time"
)

// Profile is everything a certificate says about its holder: what kubeadm
// calls a cert's config. Renewal builds one from an existing certificate.
type Profile struct {
	Name         string // kubeadm's phase name: "apiserver", "etcd-server"
	BaseName     string // file name without extension, relative to the cert dir: "etcd/server"
	CAName       string // Name of the signing CA's profile; "" for a CA
	LongName     string // what the certificate is for, for help texts
	CommonName   string
	Organization []string
	DNSNames     []string
	IPs          []net.IP
	ExtKeyUsages []x509.ExtKeyUsage
	IsCA         bool
	// RequiredKeyUsage lists key usages, beyond digital signature, that
	// VerifyIssued requires of a certificate issued elsewhere: what a
	// request file asked an external CA for. Sign ignores it: certctl's own
	// certificates carry kubeadm's key usages.
	RequiredKeyUsage x509.KeyUsage
}

// Validity is a certificate's validity window.
type Validity struct {
	NotBefore, NotAfter time.Time
}

// NewValidity is kubeadm's window for a certificate made at now: valid from
// now-backdate (so that a node whose clock is a little behind accepts it)
// until now+d.
func NewValidity(now time.Time, backdate, d time.Duration) Validity {
	now = now.UTC().Truncate(time.Second)
	return Validity{NotBefore: now.Add(-backdate), NotAfter: now.Add(d)}
}

// ErrCAExpired is returned when a certificate would be signed by a CA whose
// validity has ended.
var ErrCAExpired = errors.New("CA certificate has expired")

// CapToCA shortens v so that a certificate never outlives the CA that signs
// it. It reports whether it had to, so that the caller can warn. It fails
// with ErrCAExpired when the CA is no longer valid at notBefore.
func CapToCA(v Validity, ca *x509.Certificate) (Validity, bool, error) {
	if err := CAValidAt(ca, v.NotBefore); err != nil {
		return v, false, err
	}
	if v.NotAfter.After(ca.NotAfter) {
		v.NotAfter = ca.NotAfter
		return v, true, nil
	}
	return v, false, nil
}

// serialNumber returns a uniform random serial in [1, 2^63-1), as kubeadm does.
func serialNumber(r io.Reader) (*big.Int, error) {
	n, err := rand.Int(r, big.NewInt(math.MaxInt64-1))
	if err != nil {
		return nil, fmt.Errorf("pki: generate serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// KeyUsage is the key usage of p's certificate, as kubeadm's
// NewSignedCert and NewSelfSignedCACert set it: digital signature and key
// encipherment, plus cert sign for a CA. Sign issues it, and so does
// certctl's signer for a request that fits p, whatever subset of it the
// request asked for.
func (p Profile) KeyUsage() x509.KeyUsage {
	usage := x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature
	if p.IsCA {
		usage |= x509.KeyUsageCertSign
	}
	return usage
}

// create makes p's certificate for pub, signed by key as parent, or
// self-signed when parent is nil, from the x509 template kubeadm's
// NewSignedCert and NewSelfSignedCACert build: KeyEncipherment and
// DigitalSignature usages (plus CertSign on a CA), BasicConstraints always
// present. verb names the step in the error.
func (p *Profile) create(r io.Reader, v Validity, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer, verb string) (*x509.Certificate, error) {
	serial, err := serialNumber(r)
	if err != nil {
		return nil, err
	}
	usage := p.KeyUsage()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: p.CommonName, Organization: p.Organization},
		DNSNames:              p.DNSNames,
		IPAddresses:           p.IPs,
		NotBefore:             v.NotBefore,
		NotAfter:              v.NotAfter,
		KeyUsage:              usage,
		ExtKeyUsage:           p.ExtKeyUsages,
		BasicConstraintsValid: true,
		IsCA:                  p.IsCA,
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(r, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("pki: %s %q: %w", verb, p.Name, err)
	}
	return x509.ParseCertificate(der)
}

// NewSelfSignedCA makes a self-signed CA certificate for key. As kubeadm
// does, the CA names its CommonName as a DNS SAN.
func NewSelfSignedCA(r io.Reader, p Profile, key crypto.Signer, v Validity) (*x509.Certificate, error) {
	if !p.IsCA {
		return nil, fmt.Errorf("pki: profile %q is not a CA", p.Name)
	}
	if p.CommonName != "" && len(p.DNSNames) == 0 {
		p.DNSNames = []string{p.CommonName}
	}
	return p.create(r, v, nil, key.Public(), key, "create CA certificate")
}

// Sign issues a certificate for pub, described by p, signed by the CA.
func Sign(r io.Reader, p Profile, pub crypto.PublicKey, caCert *x509.Certificate, caKey crypto.Signer, v Validity) (*x509.Certificate, error) {
	if p.CommonName == "" {
		return nil, fmt.Errorf("pki: certificate %q has no CommonName", p.Name)
	}
	if !p.IsCA && len(p.ExtKeyUsages) == 0 {
		return nil, fmt.Errorf("pki: certificate %q has no extended key usage", p.Name)
	}
	if caCert == nil { // create would make it self-issued
		return nil, fmt.Errorf("pki: sign certificate %q: no CA certificate", p.Name)
	}
	return p.create(r, v, caCert, pub, caKey, "sign certificate")
}

// NewCSR makes a PKCS#10 request with the profile's subject and SANs, signed
// by key (the proof of possession). A CSR cannot carry key usages: an
// external CA must be told them separately.
func NewCSR(r io.Reader, p Profile, key crypto.Signer) (*x509.CertificateRequest, error) {
	tmpl := &x509.CertificateRequest{
		Subject:     pkix.Name{CommonName: p.CommonName, Organization: p.Organization},
		DNSNames:    p.DNSNames,
		IPAddresses: p.IPs,
	}
	der, err := x509.CreateCertificateRequest(r, tmpl, key)
	if err != nil {
		return nil, fmt.Errorf("pki: create certificate request %q: %w", p.Name, err)
	}
	return x509.ParseCertificateRequest(der)
}

// ProfileFromCert reads the holder's identity back from an existing
// certificate: renewal keeps CN, O, SANs and usages exactly as they are.
func ProfileFromCert(name, baseName, caName string, c *x509.Certificate) Profile {
	return Profile{
		Name:         name,
		BaseName:     baseName,
		CAName:       caName,
		CommonName:   c.Subject.CommonName,
		Organization: slices.Clone(c.Subject.Organization),
		DNSNames:     slices.Clone(c.DNSNames),
		IPs:          slices.Clone(c.IPAddresses),
		ExtKeyUsages: slices.Clone(c.ExtKeyUsage),
		IsCA:         c.IsCA,
	}
}
