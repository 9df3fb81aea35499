package expiration

import (
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestOtherClusterContext: admin.conf with another cluster's context
// merged in and made current was reported not-signed-by-ca, "restore the
// right certificate or CA from a backup", which would lose the user's
// contexts: it now says to switch back, with the command.
func TestOtherClusterContext(t *testing.T) {
	n, other := pkitest.NewNode(t, nil), pkitest.NewNode(t, nil)
	pkitest.MergeOtherCluster(t, n.Path("admin.conf"), other.Path("admin.conf"))
	for _, c := range check(t, n, nil).Certificates {
		if c.Name != "admin.conf" {
			continue
		}
		want := "switch back with `kubectl --kubeconfig " + n.Path("admin.conf") + " config use-context kubernetes-admin@kubernetes`"
		if len(c.Problems) != 1 || c.Problems[0].Type != NotSignedByCA || !strings.Contains(c.Problems[0].Message, `current context "staging"`) || !strings.Contains(c.Problems[0].Message, want) {
			t.Errorf("problems %+v, want one %s saying %s", c.Problems, NotSignedByCA, want)
		}
		return
	}
	t.Fatal("no admin.conf row")
}
