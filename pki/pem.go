package pki

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"

	certutil "k8s.io/client-go/util/cert"
)

func encodePEM(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// EncodeCert PEM-encodes a certificate.
func EncodeCert(c *x509.Certificate) []byte { return encodePEM(certutil.CertificateBlockType, c.Raw) }

// EncodeCerts PEM-encodes certificates, in their order: a certificate and
// its intermediates, or a CA bundle.
func EncodeCerts(certs ...*x509.Certificate) []byte {
	var data []byte
	for _, c := range certs {
		data = append(data, EncodeCert(c)...)
	}
	return data
}

// EncodeCSR PEM-encodes a certificate request.
func EncodeCSR(r *x509.CertificateRequest) []byte {
	return encodePEM(certutil.CertificateRequestBlockType, r.Raw)
}

// ParseCerts decodes every certificate in PEM data; the first is the leaf.
func ParseCerts(data []byte) ([]*x509.Certificate, error) {
	certs, err := certutil.ParseCertsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return certs, nil
}

// ParseCSR decodes a PEM "CERTIFICATE REQUEST" and checks its self-signature.
func ParseCSR(data []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != certutil.CertificateRequestBlockType {
		return nil, fmt.Errorf("pki: no PEM %q block found", certutil.CertificateRequestBlockType)
	}
	r, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: parse certificate request: %w", err)
	}
	if err := r.CheckSignature(); err != nil {
		return nil, fmt.Errorf("pki: certificate request signature: %w", err)
	}
	return r, nil
}
