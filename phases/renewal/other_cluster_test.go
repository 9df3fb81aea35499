package renewal

import (
	"context"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestRenewOtherClusterContext: admin.conf with another cluster's context
// merged in and made current (kubectl config use-context) was refused as
// a certificate not signed by the CA, saying to restore it or remove it
// and make a new one, which would lose the contexts the user added. It now
// names the context and gives the use-context command that switches back;
// nothing is written.
func TestRenewOtherClusterContext(t *testing.T) {
	n, other := newNode(t, nil), newNode(t, nil)
	pkitest.MergeOtherCluster(t, n.path("admin.conf"), other.path("admin.conf"))
	before := treetest.Snapshot(t, n.Dir)
	_, err := Renew(context.Background(), n.targets(t, "admin.conf"), n.options(made.Add(time.Hour)))
	treetest.ErrMentions(t, err, n.path("admin.conf"), `current context "staging"`, "not signed by the CA", "config use-context kubernetes-admin@kubernetes")
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
}
