package expiration

import (
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestSwitchedContextAdvice: admin.conf whose current context the user
// switched to a user of their own (kubectl config use-context) is reported
// with the use-context that switches back, as renew says, not "remove it
// and run init-phase", which would lose the contexts the user added.
func TestSwitchedContextAdvice(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	p := n.Path("admin.conf")
	pkitest.SwitchContext(t, p, &clientcmdapi.AuthInfo{Token: "t"})
	for _, c := range check(t, n, nil).Certificates {
		if c.Name != "admin.conf" {
			continue
		}
		if len(c.Problems) != 1 {
			t.Fatalf("admin.conf problems %+v, want one", c.Problems)
		}
		msg := c.Problems[0].Message
		if !strings.Contains(msg, "config use-context kubernetes-admin@kubernetes") || strings.Contains(msg, "remove it") {
			t.Errorf("admin.conf with its context switched: %q, want the use-context that switches back", msg)
		}
	}
}
