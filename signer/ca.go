package signer

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/certctl/certctl/pki"
)

// CA is a signing CA held in memory: its files are read once, so signing
// never touches the disk.
type CA struct {
	Cert     *x509.Certificate
	Key      crypto.Signer
	CertFile string
	KeyFile  string
}

// LoadCA reads the CA certificate and key files and checks what
// kube-controller-manager and certctl's signer need: both files exist, the
// certificate file holds exactly one certificate, it is a CA (CA:TRUE and
// the certSign key usage), the key is its key, and it is valid at now.
func LoadCA(certFile, keyFile string, now time.Time) (*CA, error) {
	data, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate %s: %w", certFile, err)
	}
	certs, err := pki.ParseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate %s: %w", certFile, err)
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("CA certificate file %s holds %d certificates: a signer's file must hold exactly one, the CA's own", certFile, len(certs))
	}
	cert := certs[0]
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("%s is not a CA certificate (it needs CA:TRUE and the certSign key usage): point at the CA's files", certFile)
	}
	key, err := pki.ReadKeyFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: the signer needs the CA's private key next to its certificate", err)
	}
	if err := pki.KeyMatches(cert, key); err != nil {
		return nil, fmt.Errorf("CA key %s does not match CA certificate %s: restore the matching pair", keyFile, certFile)
	}
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("CA certificate %s expired on %s: renew the CA before signing with it", certFile, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return &CA{Cert: cert, Key: key, CertFile: certFile, KeyFile: keyFile}, nil
}
