package external

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/certctl/certctl/pki"
)

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
