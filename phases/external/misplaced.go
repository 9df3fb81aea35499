package external

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// A CA operator, or the tools between, often hands a signed certificate
// back under another name than the request file's: cfssljson's NAME.pem,
// the NAME.cer of Windows CAs and CA portals, or flat, without the etcd/
// folder (server.crt). The import reads only the request file's name, so
// it says where such a file must go rather than wait for a certificate
// that is there.

// lookalikeExts are the names other than NAME.crt that CAs and their tools
// give a signed certificate: cfssljson's NAME.pem, the NAME.cer of Windows
// CAs and CA web portals (often DER).
var lookalikeExts = []string{".pem", ".cer", ".der", ".cert"}

// lookalike is the file next to cert, the path of a signed certificate not
// there yet, that is likely that certificate under another name; "" when
// there is none.
func lookalike(cert string) string {
	base := strings.TrimSuffix(cert, ".crt")
	for _, ext := range lookalikeExts {
		if st, err := os.Stat(base + ext); err == nil && st.Mode().IsRegular() {
			return base + ext
		}
	}
	return ""
}

// lookalikeWarning says that the file other, next to cert, may be the
// certificate the import waits for at cert.
func lookalikeWarning(other, cert string) string {
	return fmt.Sprintf("%s is there, but the import reads the signed certificate at %s: if it is that certificate, rename it (mv %s %s) and import again",
		other, cert, output.ShellQuote(other), output.ShellQuote(cert))
}

// misplaced says, for each file of ignored (.crt files that are no
// certificate of the inventory), whose pending certificate it is, when it
// is the certificate of a key of the CSR folder whose certificate the
// import still waits for (pending).
func (im *importer) misplaced(ignored, pending []string) []string {
	var out []string
	for _, p := range ignored {
		data, err := pki.ReadFile(p)
		if err != nil {
			continue
		}
		certs, err := parseHandedBack(data)
		if err != nil {
			continue
		}
		for _, c := range certs {
			if o := im.keyOwner(renewal.Target{}, c.PublicKey); o != nil && slices.Contains(pending, o.Cert) {
				out = append(out, fmt.Sprintf("%s is the certificate signed for the CSR of %s (its key is %s): put it at %s (mv %s %s) and import again",
					p, o.Name, o.Key, o.Cert, output.ShellQuote(p), output.ShellQuote(o.Cert)))
				break
			}
		}
	}
	return out
}
