package signer

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/certctl/certctl/pki"
)

// CA is a signing CA held in memory: signing never touches the disk. A
// CASource reads its files again when they change.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Current returns ca itself: a CA read once is a CAProvider that never
// changes.
func (ca *CA) Current() *CA { return ca }

// LoadCA reads the CA certificate and key files and checks what
// kube-controller-manager and certctl's signer need: both files exist, the
// certificate file holds exactly one certificate, it is a CA (CA:TRUE, and
// the certSign key usage when it has a key usage extension: pki.CAProblem),
// the key is its key, and it is valid at now.
//
// With bundle, for certctl's own signers (`signer run`, `sign`), which,
// unlike kube-controller-manager, also read a bundle: certificates after
// the CA's own in the certificate file are ignored. During a CA rotation
// ca.crt holds the old and the new CA, and its first certificate is always
// the one ca.key matches, the one that signs at that stage
// (docs/ca-rotation.md), so the signer follows the rotation from the same
// two files.
func LoadCA(certFile, keyFile string, now time.Time, bundle bool) (*CA, error) {
	certPEM, keyPEM, err := readCAFiles(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return parseCA(certFile, certPEM, keyFile, keyPEM, now, bundle)
}

// readCAFiles reads the two files of a CA, so that a CASource checks and
// compares the very bytes it read.
func readCAFiles(certFile, keyFile string) (certPEM, keyPEM []byte, err error) {
	certPEM, err = pki.ReadFile(certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("read CA certificate %s: %w", certFile, err)
	}
	keyPEM, err = pki.ReadFile(keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("read private key %s: %w: the signer needs the CA's private key next to its certificate", keyFile, err)
	}
	return certPEM, keyPEM, nil
}

// parseCA makes the checks of LoadCA on the contents of the two files.
func parseCA(certFile string, certPEM []byte, keyFile string, keyPEM []byte, now time.Time, bundle bool) (*CA, error) {
	ca, err := pki.ParseCA(certFile, certPEM, keyFile, keyPEM, now)
	switch pki.FaultOf(err) {
	case 0:
		if len(ca.Bundle) != 1 && !bundle {
			return nil, fmt.Errorf("CA certificate file %s holds %d certificates: a signer's file must hold exactly one, the CA's own; if a CA rotation is under way (certctl ca status), run this after its finish stage (certctl ca rotate NAME --to finish)", certFile, len(ca.Bundle))
		}
		return &CA{Cert: ca.Cert, Key: ca.Key}, nil
	case pki.CANotCA:
		return nil, fmt.Errorf("%w; point at the CA's files", err)
	case pki.CAKeyUnparsable:
		return nil, fmt.Errorf("%w: the signer needs the CA's private key next to its certificate", err)
	case pki.CAKeyMismatch:
		return nil, fmt.Errorf("%w: restore the matching pair", err)
	case pki.CANotValid:
		return nil, fmt.Errorf("%w: renew the CA before signing with it", err)
	}
	return nil, err
}
