package external

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
)

// TestImportBOMAndText: a certificate file as a Windows CA or editor
// hands it back (a UTF-8 byte order mark, which Notepad writes; CRLF line
// ends), or as `openssl x509 -text` prints it (the text before the PEM),
// with the issuing CA after the leaf or not. Each is accepted and
// installed as PEM with LF line ends, leaf first: the components' PEM
// reader skips a first block that does not start a line, so a byte order
// mark made the import check the issuing CA as the certificate (refused
// as a CA for another key), or find no certificate at all.
func TestImportBOMAndText(t *testing.T) {
	bom := []byte("\xef\xbb\xbf")
	crlf := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }
	for _, tt := range []struct {
		name  string
		chain bool
		edit  func(pemData []byte) []byte
	}{
		{"byte order mark", false, func(b []byte) []byte { return append(slices.Clone(bom), b...) }},
		{"byte order mark, chain", true, func(b []byte) []byte { return append(slices.Clone(bom), b...) }},
		{"byte order mark and CRLF, chain", true, func(b []byte) []byte { return append(slices.Clone(bom), crlf(b)...) }},
		{"byte order marks of two files concatenated", true, func(b []byte) []byte {
			i := bytes.Index(b, []byte("-----END CERTIFICATE-----\n")) + len("-----END CERTIFICATE-----\n")
			return append(append(append(slices.Clone(bom), b[:i]...), bom...), b[i:]...)
		}},
		{"CRLF, chain", true, crlf},
		{"openssl -text before, text after", true, func(b []byte) []byte {
			return append(append([]byte("Certificate:\n    Data:\n        Version: 3 (0x2)\n"), b...), "subject=CN=kube-apiserver\n"...)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			n.writeCSRs(t, "apiserver")
			signer := &issuer{cert: n.caCerts["ca"], key: n.caKeys["ca"]}
			if tt.chain {
				signer = n.intermediate(t, "ca", "issuing CA", nil)
			}
			n.sign(t, reqfile.Path(n.csrDir, "apiserver"), nil, signer)
			crt := filepath.Join(n.csrDir, "apiserver.crt")
			if tt.chain {
				appendCerts(t, crt, signer.cert)
			}
			want := read(t, crt)
			if err := os.WriteFile(crt, tt.edit(want), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Import(context.Background(), n.importOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Imported) != 1 || len(res.Refused) != 0 {
				t.Fatalf("imported %v, refused %v", res.Imported, res.Refused)
			}
			got := read(t, pki.Store{Dir: n.CertDir()}.CertPath("apiserver"))
			if !bytes.Equal(got, want) {
				t.Errorf("installed apiserver.crt is not the PEM chain, LF-ended, leaf first:\n%s", got)
			}
		})
	}
}
