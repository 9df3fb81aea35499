package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestUnreadableFileAsNobody: a key or CA certificate that the user
// running certctl may not read fails `renew all` with one line naming the
// file and saying to fix the permissions of the file and its folders (not
// of "the folder", which may be fine), exit 1, every file unchanged.
func TestUnreadableFileAsNobody(t *testing.T) {
	bin := certctlBin(t)
	for _, file := range []string{"pki/apiserver.key", "pki/front-proxy-ca.crt"} {
		t.Run(file, func(t *testing.T) {
			n := makeNode(t, bin, "ECDSA-P256")
			as := giveToNobody(t, n)
			path := filepath.Join(n.dir, file)
			if err := os.Chown(path, 0, 0); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o600); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, n)
			code, errLine := runAs(t, as, bin, append([]string{"renew", "all"}, n.flags()...)...)
			if code != 1 {
				t.Errorf("renew all: exit %d, want 1", code)
			}
			assertErrLine(t, "renew all", errLine, path, "run certctl as root, or fix the permissions of the file and its folders")
			treetest.AssertSame(t, before, snapshot(t, n))
		})
	}
}
