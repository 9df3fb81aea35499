package external

import (
	"context"
	"crypto/x509"
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
)

// TestImportOneCAForEveryRole: ca.crt, front-proxy-ca.crt and etcd/ca.crt
// are the same CA certificate (docs/external-ca.md: "they may be the same
// CA"), and a certificate signed by it is refused for what it holds (a SAN
// left out). The reason says that, and not that another CA of the folder
// signed it: it is signed by its own CA, which the others only share.
// Before, any refusal of such a node's certificate added "it is signed by
// the CA front-proxy-ca ...: have it signed by ca", sending the operator
// after a CA problem there was none of.
func TestImportOneCAForEveryRole(t *testing.T) {
	n := newExtNode(t)
	st := pki.Store{Dir: n.CertDir()}
	for _, base := range []string{"front-proxy-ca", "etcd/ca"} {
		if err := os.WriteFile(st.CertPath(base), read(t, st.CertPath("ca")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n.writeCSRs(t, "apiserver")
	n.sign(t, reqfile.Path(n.csrDir, "apiserver"), func(c *x509.Certificate) { c.DNSNames = c.DNSNames[1:] }, nil)
	o := n.importOptions()
	o.DryRun = true
	res, err := Import(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refused) != 1 {
		t.Fatalf("refused %v, imported %v; want apiserver refused", res.Refused, res.Imported)
	}
	reason := res.Refused[0].Reason
	assertMentions(t, reason, "it lacks the SANs")
	for _, not := range []string{"signed by the CA", "not signed", "intermediate"} {
		if strings.Contains(reason, not) {
			t.Errorf("the reason says %q, but ca.crt's CA signed it: %s", not, reason)
		}
	}
}
