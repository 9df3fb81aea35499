package external

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/pki"
)

// pkcs7SignedData is the DER of the OID of PKCS#7 SignedData
// (1.2.840.113549.1.7.2), which starts a .p7b file.
var pkcs7SignedData = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}

// notPEM is the refusal of file, whose data holds no certificate that
// can be parsed (err): what it holds instead, when it is one of the forms
// CAs hand certificates back in, and the command that converts it.
func notPEM(file string, data []byte, err error) error {
	f := output.ShellQuote(file)
	blocks := map[string]bool{}
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		blocks[b.Type] = true
	}
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		// `openssl x509 ... > NAME.crt` that failed leaves an empty file.
		return fmt.Errorf("it is empty (the command that was to write it failed?): put there the certificate your CA signed, in PEM")
	case blocks["CERTIFICATE"]:
		return fmt.Errorf("it holds no PEM certificate that can be parsed (%v): the components cannot load it either; copy it again whole, or have it signed again", strings.TrimPrefix(err.Error(), "pki: "))
	case blocks["PKCS7"]:
		return fmt.Errorf("it holds a PKCS#7 bundle, not PEM certificates: convert it with `openssl pkcs7 -print_certs -in %s -out %s` and put the certificate first, then its intermediates", f, f)
	case blocks["CERTIFICATE REQUEST"] || blocks["NEW CERTIFICATE REQUEST"]:
		return fmt.Errorf("it holds a CSR, not the certificate signed for it: have the CSR signed, and put the certificate your CA returns there, in PEM")
	case len(blocks) == 0 && len(data) > 0 && data[0] == 0x30:
		if pki.IsDERCertificate(data) {
			return fmt.Errorf("it holds a DER certificate, not PEM: convert it with `openssl x509 -inform der -in %s -out %s`", f, f)
		}
		if i := bytes.Index(data, pkcs7SignedData); i >= 0 && i < 32 {
			return fmt.Errorf("it holds a PKCS#7 bundle in DER, not PEM certificates: convert it with `openssl pkcs7 -inform der -print_certs -in %s -out %s` and put the certificate first, then its intermediates", f, f)
		}
	case len(blocks) == 0 && bytes.HasPrefix(trimmed, []byte("{")) && bytes.Contains(trimmed, []byte(`"cert"`)):
		// cfssljson -bare NAME writes NAME.pem, not this file, and jq's
		// output redirected onto its input empties it: a whole command.
		return fmt.Errorf("it holds cfssl's JSON output, not the PEM certificate: write its cert field there with `jq -r .cert %s > %s.pem && mv %s.pem %s` (cfssljson -bare writes it to NAME.pem, which the import does not read)", f, f, f, f)
	}
	return fmt.Errorf("it holds no PEM certificate (%v): put there the certificate your CA signed, in PEM", err)
}
