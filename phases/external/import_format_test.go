package external

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestImportCertificateFormats: the CA handed the certificate back in a
// form that is not PEM certificates (DER, as Windows CAs do; a PKCS#7
// bundle; cfssl's JSON; the CSR itself; a certificate Go cannot parse).
// The refusal says what the file is and the command that converts it, and
// nothing is installed.
func TestImportCertificateFormats(t *testing.T) {
	negative := read(t, filepath.Join("testdata", "negative-serial.crt"))
	// A PKCS#7 SignedData's start: SEQUENCE, then the OID 1.2.840.113549.1.7.2.
	pkcs7 := []byte{0x30, 0x82, 0x01, 0x00, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x82}
	tests := []struct {
		name string
		data func(signed []byte, csr []byte) []byte
		want []string
	}{
		{"DER", func(signed, _ []byte) []byte { b, _ := pem.Decode(signed); return b.Bytes },
			[]string{"it holds a DER certificate, not PEM", "openssl x509 -inform der -in", "apiserver.crt -out"}},
		{"PKCS#7 in PEM", func(_, _ []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: pkcs7}) },
			[]string{"it holds a PKCS#7 bundle", "openssl pkcs7 -print_certs -in", "put the certificate first"}},
		{"PKCS#7 in DER", func(_, _ []byte) []byte { return pkcs7 },
			[]string{"it holds a PKCS#7 bundle", "openssl pkcs7 -inform der -print_certs -in"}},
		{"cfssl JSON", func(signed, _ []byte) []byte {
			return []byte(`{"cert":"` + string(signed[:40]) + `..."}`)
		}, []string{"cfssl's JSON output", "cfssljson -bare", "jq -r .cert"}},
		{"the CSR", func(_, csr []byte) []byte { return csr },
			[]string{"it holds a CSR, not the certificate signed for it", "have the CSR signed"}},
		{"negative serial number", func(_, _ []byte) []byte { return negative },
			[]string{"it holds no PEM certificate that can be parsed", "negative serial number", "have it signed again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			n.writeCSRs(t, "apiserver", "front-proxy-client")
			n.signAll(t)
			crt := filepath.Join(n.csrDir, "apiserver.crt")
			if err := os.WriteFile(crt, tt.data(read(t, crt), read(t, filepath.Join(n.csrDir, "apiserver.csr"))), 0o644); err != nil {
				t.Fatal(err)
			}
			before := treetest.Snapshot(t, n.CertDir())
			o := n.importOptions()
			o.DryRun = true
			res, err := Import(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Refused) != 1 || res.Refused[0].Name != "apiserver" {
				t.Fatalf("refused %v", res.Refused)
			}
			assertMentions(t, res.Refused[0].Reason, tt.want...)
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.CertDir()))
		})
	}
}
