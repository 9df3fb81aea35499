package external

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/certctl/certctl/pki"
)

// parseHandedBack parses the certificates of data, a certificate file the
// CA operator handed back. UTF-8 byte order marks (Notepad and other
// Windows tools write one before a file; `cat leaf.crt issuing.crt` of two
// such files puts one before the second block) are dropped: Go's PEM
// reader, the components' too, skips a block that does not start a line,
// so the leaf would be lost and its intermediate taken for it. What the import
// installs is encoded again (pki.EncodeCerts), without the mark.
func parseHandedBack(data []byte) ([]*x509.Certificate, error) {
	return pki.ParseCerts(bytes.ReplaceAll(data, pki.UTF8BOM, nil))
}

// notPEM is the refusal of file, whose data holds no certificate that
// can be parsed (err): what it holds instead, when it is one of the forms
// CAs hand certificates back in, and the command that converts it
// (pki.NotPEM).
func notPEM(file string, data []byte, err error) error {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		// `openssl x509 ... > NAME.crt` that failed leaves an empty file.
		return fmt.Errorf("it is empty (the command that was to write it failed?): put there the certificate your CA signed, in PEM")
	case pki.PEMTypes(data)["CERTIFICATE"]:
		return fmt.Errorf("it holds no PEM certificate that can be parsed (%v): the components cannot load it either; copy it again whole, or have it signed again", strings.TrimPrefix(err.Error(), "pki: "))
	}
	if form := pki.NotPEM(file, data); form != "" {
		return errors.New(form)
	}
	return fmt.Errorf("it holds no PEM certificate (%v): put there the certificate your CA signed, in PEM", err)
}
