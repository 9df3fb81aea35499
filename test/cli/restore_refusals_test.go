package cli

import (
	"io/fs"
	"os"
	"os/exec"
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

// TestKeepBackupsWithACopyNamedByHand: with a copy of a backup the user named
// (certctl-backups/pre-upgrade), `renew --keep-backups 1` removed the backup
// it had just made (the copy sorted as the newest), and `restore latest` and
// `restore -o jsonpath='{.items[-1:].name}'` named the copy.
func TestKeepBackupsWithACopyNamedByHand(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	root := filepath.Join(n.dir, "certctl-backups")
	run(t, bin, append([]string{"renew", "apiserver", "--quiet"}, n.flags()...)...)
	first, _ := filepath.Glob(filepath.Join(root, "2*"))
	if len(first) != 1 {
		t.Fatalf("backups: %q", first)
	}
	if out, err := exec.Command("cp", "-a", first[0], filepath.Join(root, "pre-upgrade")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	run(t, bin, append([]string{"renew", "admin.conf", "--quiet", "--keep-backups", "1"}, n.flags()...)...)
	now, _ := filepath.Glob(filepath.Join(root, "2*"))
	if len(now) != 1 || now[0] == first[0] {
		t.Fatalf("after --keep-backups 1: %q, want only the second renewal's backup", now)
	}
	if _, err := os.Stat(filepath.Join(root, "pre-upgrade", "backup.json")); err != nil {
		t.Errorf("the copy named by hand was removed: %v", err)
	}
	if got := runOut(t, bin, append([]string{"restore", "-o", "jsonpath={.items[-1:].name}"}, n.flags()...)...); strings.TrimSpace(got) != filepath.Base(now[0]) {
		t.Errorf("newest backup %q, want %q", got, filepath.Base(now[0]))
	}
	out := runOut(t, bin, append([]string{"restore", "latest", "--dry-run"}, n.flags()...)...)
	if !strings.Contains(out, "admin.conf would be restored from "+now[0]) {
		t.Errorf("restore latest --dry-run does not restore %s:\n%s", now[0], out)
	}
}
