package renewal

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestRenewRefusesUnreplaceable: a file or folder the commit could not
// replace or write in fails the renewal with every file as it was, before
// any certificate is asked of an issuer (--use-api), which would otherwise
// wait for an approval in vain.
func TestRenewRefusesUnreplaceable(t *testing.T) {
	tests := []struct {
		name   string
		spoil  func(t *testing.T, n *node) []string
		issuer bool
	}{
		{"immutable key", func(t *testing.T, n *node) []string {
			treetest.Chattr(t, "+i", n.path("pki/etcd/peer.key"))
			return []string{"cannot replace " + n.path("pki/etcd/peer.key"), "chattr -i " + n.path("pki/etcd/peer.key")}
		}, false},
		{"immutable key, with an issuer", func(t *testing.T, n *node) []string {
			treetest.Chattr(t, "+i", n.path("pki/apiserver.key"))
			return []string{"cannot replace " + n.path("pki/apiserver.key"), "chattr -i"}
		}, true},
		{"immutable backup folder", func(t *testing.T, n *node) []string {
			backups := filepath.Join(n.Dir, BackupDirName)
			if err := os.Mkdir(backups, 0o700); err != nil {
				t.Fatal(err)
			}
			treetest.Chattr(t, "+i", backups)
			return []string{"cannot write in folder " + backups, "chattr -i " + backups}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, nil)
			want := tt.spoil(t, n)
			before := treetest.Snapshot(t, n.Dir)
			o := n.options(renewAt)
			o.SkipMissing = true
			var is *fakeIssuer
			if tt.issuer {
				is = newFakeIssuer(t, n, nil)
				o.Issuer = is
			}
			_, err := Renew(context.Background(), n.targets(t, "all"), o)
			treetest.ErrMentions(t, err, append(want, "nothing was changed")...)
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
			if is != nil && is.reqs != nil {
				t.Errorf("the issuer was asked for %d certificate(s) that could not be installed", len(is.reqs))
			}
		})
	}
}
