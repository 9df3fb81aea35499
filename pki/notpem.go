package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNotPEM is wrapped by the error of ParseCA for a CA certificate file in
// a form CAs hand certificates out in but that certctl and the components
// do not read (DER, PKCS#7, ...): the error says how to convert it
// (NotPEM).
var ErrNotPEM = errors.New("not PEM")

// SaysWhatToDo reports whether err, of ReadFile or LoadCA, already says
// what to do (a file that is not regular, a CA certificate not in PEM), so
// that a caller adds no advice of its own, such as restoring from a
// backup or fixing permissions.
func SaysWhatToDo(err error) bool {
	return errors.Is(err, ErrNotRegular) || errors.Is(err, ErrNotPEM)
}

// notPEMError is NotPEM's sentence as an error that is ErrNotPEM.
type notPEMError string

func (e notPEMError) Error() string        { return string(e) }
func (e notPEMError) Is(target error) bool { return target == ErrNotPEM }

// ReadCerts reads the PEM certificates of file path (ReadParsed): a
// bundle, the first one its leaf. A file in a form CAs hand certificates
// out in but not PEM is refused with the command that converts it
// (parseCertsOf).
func ReadCerts(path string) ([]*x509.Certificate, error) {
	return ReadParsed(path, "certificates", func(data []byte) ([]*x509.Certificate, error) { return parseCertsOf(path, data) })
}

// parseCertsOf is ParseCerts of data, file's contents; when they do not
// parse and are in a form CAs hand certificates out in, the error is
// NotPEM's sentence, which is ErrNotPEM.
func parseCertsOf(file string, data []byte) ([]*x509.Certificate, error) {
	certs, err := ParseCerts(data)
	// A byte order mark hides the certificate after it, the first of a
	// bundle too: the others parse, and the components trust them alone.
	if err != nil || bytes.Contains(data, UTF8BOM) {
		if form := NotPEM(file, data); form != "" {
			return nil, notPEMError(form)
		}
	}
	return certs, err
}

// UTF8BOM is the UTF-8 byte order mark that Notepad writes at the start
// of a file. Go's PEM reader skips a block that does not start a line.
var UTF8BOM = []byte("\ufeff")

// pkcs7SignedData is the DER of the OID of PKCS#7 SignedData
// (1.2.840.113549.1.7.2), which starts a .p7b file.
var pkcs7SignedData = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}

// NotPEM says what file's data, which holds no PEM certificate that can be
// parsed, holds instead, when it is one of the forms CAs hand certificates
// out in, and the command that converts it: "it holds a DER certificate,
// not PEM: convert it with `openssl x509 ...`". It is "" for anything
// else.
func NotPEM(file string, data []byte) string {
	f := ShellQuote(file)
	blocks := PEMTypes(data)
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.Contains(data, UTF8BOM) && PEMTypes(bytes.ReplaceAll(data, UTF8BOM, nil))["CERTIFICATE"]:
		return fmt.Sprintf("it holds a UTF-8 byte order mark, as Windows editors write one, which hides the certificate after it from Go's PEM reader, the components' too: remove it with `sed -i 's/\\xEF\\xBB\\xBF//g' %s`", f)
	case blocks["CERTIFICATE"]:
		return ""
	case blocks["PKCS7"]:
		return fmt.Sprintf("it holds a PKCS#7 bundle, not PEM certificates: convert it with `openssl pkcs7 -print_certs -in %s -out %s` and put the certificate first, then its intermediates", f, f)
	case blocks["CERTIFICATE REQUEST"] || blocks["NEW CERTIFICATE REQUEST"]:
		return "it holds a CSR, not the certificate signed for it: have the CSR signed, and put the certificate your CA returns there, in PEM"
	case len(blocks) == 0 && len(data) > 0 && data[0] == 0x30:
		if IsDERCertificate(data) {
			return fmt.Sprintf("it holds a DER certificate, not PEM: convert it with `openssl x509 -inform der -in %s -out %s`", f, f)
		}
		if i := bytes.Index(data, pkcs7SignedData); i >= 0 && i < 32 {
			return fmt.Sprintf("it holds a PKCS#7 bundle in DER, not PEM certificates: convert it with `openssl pkcs7 -inform der -print_certs -in %s -out %s` and put the certificate first, then its intermediates", f, f)
		}
	case len(blocks) == 0 && bytes.HasPrefix(trimmed, []byte("{")) && bytes.Contains(trimmed, []byte(`"cert"`)):
		// cfssljson -bare NAME writes NAME.pem, not this file, and jq's
		// output redirected onto its input empties it: a whole command.
		return fmt.Sprintf("it holds cfssl's JSON output, not the PEM certificate: write its cert field there with `jq -r .cert %s > %s.pem && mv %s.pem %s` (cfssljson -bare writes it to NAME.pem, which the import does not read)", f, f, f, f)
	}
	return ""
}

// PEMTypes are the types of the PEM blocks in data ("CERTIFICATE", ...).
func PEMTypes(data []byte) map[string]bool {
	types := map[string]bool{}
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return types
		}
		types[b.Type] = true
	}
}

// OneLine is s, quoted (strconv.Quote) when it holds a character that is
// not printable. A name taken from a certificate, a CSR or a server (a
// SAN, an issuer, a requester's name) may hold a line break or a terminal
// escape: unquoted, it would start a line of its own in a one-line message
// or a table (a forged "[approve] ..." line, a forged row).
func OneLine(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return !strconv.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

// ShellQuote quotes s for a POSIX shell when it needs it, so that a
// printed command works as printed.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./=:,@+%", c))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
