package external

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
)

// TestImportDuringCARotation: a CSR folder made before a stage of a
// rotation of its CA (certctl ca rotate) is imported after it. At reissue
// the trust file ca.crt holds the new CA, which signs, then the old one;
// after finish the new one alone. A request made for the old CA was
// refused with "put the CA certificate back, or make a new request":
// putting the old CA back would undo the rotation and leave the node
// unable to verify what it re-issued. The refusal must say that a
// rotation replaced the CA, not to put it back, and how to make the
// request again. A certificate signed by the old CA for a request of the
// new one was refused as "not signed by the CA \"kubernetes\"", the CN
// of both CAs: it must say which certificate of ca.crt signed it.
func TestImportDuringCARotation(t *testing.T) {
	tests := []struct {
		name     string
		finished bool // the rotation ended: ca.crt holds the new CA alone
		remade   bool // the request made again for the new CA, signed by the old one
		want     []string
	}{
		{name: "request for the old CA at reissue", want: []string{"which a rotation of the ca CA replaced as the one that signs", "do not put that CA back in CERTDIR/ca.crt", "`certctl renew apiserver --use-csr --csr-dir CSRDIR"}},
		{name: "request for the old CA after finish", finished: true, want: []string{"which a rotation of the ca CA replaced as the one that signs", "do not put that CA back"}},
		{name: "signed by the old CA at reissue", remade: true, want: []string{"it is signed by certificate 2 of CERTDIR/ca.crt", "have CSRDIR/apiserver.csr signed by the first"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			n.writeCSRs(t, "apiserver")
			old := &issuer{cert: n.caCerts["ca"], key: n.caKeys["ca"]}
			nw := newIssuer(t, "kubernetes")
			bundle := append(pki.EncodeCert(nw.cert), pki.EncodeCert(old.cert)...)
			if tt.finished {
				bundle = pki.EncodeCert(nw.cert)
				rec := fmt.Sprintf(`{"version": 1, "ca": "ca", "stage": "finished", "oldCA": "%x", "newCA": "%x", "restarted": true}`, sha256.Sum256(old.cert.Raw), sha256.Sum256(nw.cert.Raw))
				if err := os.WriteFile(filepath.Join(n.CertDir(), ".certctl-rotation-ca.json"), []byte(rec), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(pki.Store{Dir: n.CertDir()}.CertPath("ca"), bundle, 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.remade {
				n.writeCSRs(t, "apiserver")
			}
			n.sign(t, reqfile.Path(n.csrDir, "apiserver"), nil, old)
			before := treetest.Snapshot(t, n.Dir)
			res, err := Import(context.Background(), n.importOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Refused) != 1 || len(res.Imported) != 0 {
				t.Fatalf("refused %v, imported %v; want apiserver refused", res.Refused, res.Imported)
			}
			reason := res.Refused[0].Reason
			for _, w := range tt.want {
				assertMentions(t, reason, strings.NewReplacer("CSRDIR", n.csrDir, "CERTDIR", n.CertDir()).Replace(w))
			}
			if strings.Contains(reason, "put the CA certificate back") {
				t.Errorf("the reason says to put the old CA back: %s", reason)
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}
