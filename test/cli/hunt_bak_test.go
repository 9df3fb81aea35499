package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestRestoreBackupOfOtherCAs: the node's PKI was made again with new CAs
// after a renewal; `restore latest` (and its --dry-run) would put back the
// leaves and kubeconfigs the old CAs signed, which every client trusting the
// new ca.crt rejects. It must fail with one line naming the file and the CA,
// exit 1, and leave every file as it was.
func TestRestoreBackupOfOtherCAs(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	run(t, bin, append([]string{"renew", "all", "--quiet"}, n.flags()...)...)
	other := makeNode(t, bin, "ECDSA-P256")
	err := filepath.WalkDir(other.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".certctl") {
			return err
		}
		rel, _ := filepath.Rel(other.dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(n.dir, rel), data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, n.dir)
	for _, extra := range [][]string{{"--dry-run"}, nil} {
		args := append(append([]string{"restore", "latest"}, n.flags()...), extra...)
		code, stdout, stderr := runAll(t, nil, bin, args...)
		if code != 1 {
			t.Errorf("certctl %s: exit %d, want 1\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
		want := "is not signed by the CA " + filepath.Join(n.certDir, "ca.crt")
		if !strings.Contains(stderr, want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("certctl %s: stderr does not say %q in one line:\n%s", strings.Join(args, " "), want, stderr)
		}
	}
	after := treetest.Snapshot(t, n.dir)
	lock := filepath.Join(n.dir, ".certctl.lock") // names its last holder
	delete(before, lock)
	delete(after, lock)
	treetest.AssertSame(t, before, after)
}
