package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/treetest"
)

// TestSecCSRFolderOfOthers: a --csr-dir that another user may write
// (group- or other-writable, or theirs) is refused by every command that
// writes keys into it or imports from it, before anything is written:
// that user could swap a key and its CSR for their own, of the same
// subject (admin.conf's is system:masters'), before they go to the
// external CA, and `certs import` would install their key as this node's.
// So is a subfolder of it that another user may write: etcd's, where its
// keys and CSRs are.
func TestSecCSRFolderOfOthers(t *testing.T) {
	bin := certctlBin(t)
	for _, tc := range []struct {
		name  string
		mode  os.FileMode
		owner int // -1: this test's user
		says  string
		sub   string // the subfolder of the CSR folder changed; "" for itself
	}{
		{"other-writable", 0o777, -1, "is mode 0777, writable by other users", ""},
		{"group-writable", 0o770, -1, "is mode 0770, writable by other users", ""},
		{"another user's", 0o755, 65534, "is owned by uid 65534", ""},
		{"other-writable etcd subfolder", 0o777, -1, "is mode 0777, writable by other users", "etcd"},
		{"another user's etcd subfolder", 0o755, 65534, "is owned by uid 65534", "etcd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.owner >= 0 && os.Geteuid() != 0 {
				t.Skip("chown needs root")
			}
			n := makeNode(t, bin, "ECDSA-P256")
			csrDir := filepath.Join(t.TempDir(), "csr")
			run(t, bin, append([]string{"renew", "apiserver", "admin.conf", "etcd-peer", "--use-csr", "--csr-dir", csrDir}, n.flags()...)...)
			bad := filepath.Join(csrDir, tc.sub)
			if err := os.Chmod(bad, tc.mode); err != nil {
				t.Fatal(err)
			}
			if tc.owner >= 0 {
				if err := os.Chown(bad, tc.owner, tc.owner); err != nil {
					t.Fatal(err)
				}
			}
			id := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10"}
			for _, args := range [][]string{
				append([]string{"init-phase", "certs", "all", "--use-csr"}, id...),
				append([]string{"init-phase", "kubeconfig", "all", "--use-csr"}, id...),
				append([]string{"certs", "generate-csr"}, id...),
				{"renew", "apiserver", "admin.conf", "etcd-peer", "--use-csr"},
				{"certs", "import"},
				{"certs", "import", "--dry-run"},
			} {
				args = append(append(args, "--csr-dir", csrDir), n.flags()...)
				before, beforeCSR := treetest.Snapshot(t, n.dir), treetest.Snapshot(t, csrDir)
				r := runBounded(t, bin, args...)
				after := treetest.Snapshot(t, n.dir)
				// renew and import take the node's lock first: its record
				// is the refused command's.
				delete(before, filepath.Join(n.dir, lock.FileName))
				delete(after, filepath.Join(n.dir, lock.FileName))
				if want := "CSR folder " + bad + " " + tc.says; r.code == 0 || !strings.Contains(r.errOut, want) {
					t.Errorf("certctl %s: exit %d, stderr %q; want a refusal saying %q", strings.Join(args[:2], " "), r.code, r.errOut, want)
				}
				treetest.AssertSame(t, before, after)
				treetest.AssertSame(t, beforeCSR, treetest.Snapshot(t, csrDir))
			}
		})
	}
}
