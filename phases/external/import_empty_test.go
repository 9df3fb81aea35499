package external

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportEmptyCertificateFile: a certificate file that is empty, or
// blank, as a signing command redirected into it leaves it when it fails,
// is refused as empty. Before, the reason was that it held "no valid RSA
// or ECDSA certificates", as for a file of another key type.
func TestImportEmptyCertificateFile(t *testing.T) {
	tests := []struct{ name, data string }{
		{"empty", ""},
		{"a newline", "\n"},
		{"blanks and CRLF", " \r\n\t\n"},
	}
	for _, tt := range tests {
		data := tt.data
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			n.writeCSRs(t, "apiserver", "front-proxy-client")
			n.signAll(t)
			crt := filepath.Join(n.csrDir, "apiserver.crt")
			if err := os.WriteFile(crt, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			inForce := filepath.Join(n.CertDir(), "apiserver.crt")
			was := read(t, inForce)
			res, err := Import(context.Background(), n.importOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Refused) != 1 || res.Refused[0].Name != "apiserver" {
				t.Fatalf("refused %v", res.Refused)
			}
			assertMentions(t, res.Refused[0].Reason, "it is empty", "put there the certificate your CA signed, in PEM")
			if strings.Contains(res.Refused[0].Reason, "RSA or ECDSA") {
				t.Errorf("the reason speaks of key types: %s", res.Refused[0].Reason)
			}
			if len(res.Imported) != 1 {
				t.Fatalf("imported %v, want front-proxy-client", res.Imported)
			}
			if !bytes.Equal(read(t, inForce), was) {
				t.Errorf("%s changed, though its certificate was refused", inForce)
			}
		})
	}
}
