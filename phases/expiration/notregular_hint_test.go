package expiration

import (
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestNotRegularNoPermissionHint: a FIFO or device in place of a key,
// certificate, CA or kubeconfig is named with what it is and the advice to
// replace it, and not with "run certctl as root, or fix the permissions",
// which does not help with a file of the wrong kind.
func TestNotRegularNoPermissionHint(t *testing.T) {
	for _, tc := range []struct{ name, file, row string }{
		{"leaf key", "pki/apiserver.key", "apiserver"},
		{"CA key", "pki/front-proxy-ca.key", "front-proxy-ca"},
		{"CA certificate", "pki/etcd/ca.crt", "etcd-ca"},
		{"kubeconfig", "scheduler.conf", "scheduler.conf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			treetest.FIFO(t, n.Path(tc.file))
			info := check(t, n, nil)
			if !hasProblem(info, tc.row, Unreadable, "not a regular file but a FIFO: replace it") {
				t.Errorf("%s: no problem naming the FIFO with the advice to replace it: %q", tc.file, info.Problems())
			}
			for _, p := range info.Problems() {
				if strings.Contains(p, "fix the permissions") {
					t.Errorf("%s: permissions hint for a file of the wrong kind: %q", tc.file, p)
				}
			}
		})
	}
}
