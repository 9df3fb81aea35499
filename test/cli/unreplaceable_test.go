package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/internal/txn"
)

// TestUnreplaceableFiles: a file or folder that a rename cannot replace
// (immutable, append-only, a folder certctl may not write: a read-only
// mount, or permissions as nobody) fails `renew
// all` before its commit point: exit 1, one line naming it and what to do,
// every file byte-identical, nothing for the next command to recover.
// Once the cause is gone, the same command renews.
func TestUnreplaceableFiles(t *testing.T) {
	bin := certctlBin(t)
	tests := []struct {
		name string
		// spoil returns the user to run certctl as, the file or folder
		// the error names (relative to the node), and what it says to do.
		spoil func(t *testing.T, n node) (as *syscall.Credential, file, hint string)
		fix   func(t *testing.T, n node)
	}{
		{"immutable key", func(t *testing.T, n node) (*syscall.Credential, string, string) {
			treetest.RequireChattr(t)
			treetest.Chattr(t, "+i", filepath.Join(n.certDir, "etcd/peer.key"))
			return nil, "pki/etcd/peer.key", "chattr -i " + filepath.Join(n.certDir, "etcd/peer.key")
		}, func(t *testing.T, n node) { treetest.Chattr(t, "-i", filepath.Join(n.certDir, "etcd/peer.key")) }},
		{"append-only kubeconfig", func(t *testing.T, n node) (*syscall.Credential, string, string) {
			treetest.RequireChattr(t)
			treetest.Chattr(t, "+a", filepath.Join(n.dir, "scheduler.conf"))
			return nil, "scheduler.conf", "chattr -a"
		}, func(t *testing.T, n node) { treetest.Chattr(t, "-a", filepath.Join(n.dir, "scheduler.conf")) }},
		{"immutable backup folder", func(t *testing.T, n node) (*syscall.Credential, string, string) {
			treetest.RequireChattr(t)
			backups := filepath.Join(n.dir, "certctl-backups")
			if err := os.Mkdir(backups, 0o700); err != nil {
				t.Fatal(err)
			}
			treetest.Chattr(t, "+i", backups)
			return nil, "certctl-backups", "chattr -i " + backups
		}, func(t *testing.T, n node) { treetest.Chattr(t, "-i", filepath.Join(n.dir, "certctl-backups")) }},
		{"immutable etcd folder", func(t *testing.T, n node) (*syscall.Credential, string, string) {
			treetest.RequireChattr(t)
			treetest.Chattr(t, "+i", filepath.Join(n.certDir, "etcd"))
			return nil, "pki/etcd", "chattr -i"
		}, func(t *testing.T, n node) { treetest.Chattr(t, "-i", filepath.Join(n.certDir, "etcd")) }},
		{"read-only mount", func(t *testing.T, n node) (*syscall.Credential, string, string) {
			roMount(t, filepath.Join(n.certDir, "etcd"))
			return nil, "pki/etcd", "remount it read-write"
		}, func(t *testing.T, n node) {
			if out, err := exec.Command("umount", filepath.Join(n.certDir, "etcd")).CombinedOutput(); err != nil {
				t.Fatalf("umount: %v: %s", err, out)
			}
		}},
		{"read-only folder, as nobody", func(t *testing.T, n node) (*syscall.Credential, string, string) {
			as := giveToNobody(t, n)
			if err := os.Chmod(filepath.Join(n.certDir, "etcd"), 0o500); err != nil {
				t.Fatal(err)
			}
			return as, "pki/etcd", "fix the permissions"
		}, func(t *testing.T, n node) {
			if err := os.Chmod(filepath.Join(n.certDir, "etcd"), 0o700); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := makeNode(t, bin, "ECDSA-P256")
			as, file, hint := tt.spoil(t, n)
			before := snapshot(t, n)

			code, errLine := runAs(t, as, bin, append([]string{"renew", "all"}, n.flags()...)...)
			if code != 1 {
				t.Errorf("renew all: exit %d, want 1", code)
			}
			assertErrLine(t, "renew all", errLine, filepath.Join(n.dir, file), hint)
			if !strings.Contains(errLine, "nothing was changed") {
				t.Errorf("renew all: %q does not say that nothing was changed", errLine)
			}
			treetest.AssertSame(t, before, snapshot(t, n))
			if left := leftovers(n.dir); len(left) > 0 {
				t.Errorf("left behind: %q", left)
			}
			// Nothing was committed: nothing to recover, nothing wrong.
			code, _, stderr := runAll(t, as, bin, append([]string{"check-expiration"}, n.flags()...)...)
			if code != 0 || strings.Contains(stderr, "[recover]") || strings.Contains(stderr, "[warning]") {
				t.Errorf("check-expiration after the refusal: exit %d, stderr:\n%s", code, stderr)
			}

			tt.fix(t, n)
			scratch := t.TempDir()
			old := serials(t, n.pairs(t, scratch))
			if code, errLine := runAs(t, as, bin, append([]string{"renew", "all"}, n.flags()...)...); code != 0 {
				t.Fatalf("renew all once fixed: exit %d: %s", code, errLine)
			}
			pairs := n.pairs(t, scratch)
			verifyOpenSSL(t, pairs)
			for name, s := range serials(t, pairs) {
				if s == old[name] {
					t.Errorf("%s was not renewed once fixed", name)
				}
			}
		})
	}
}

// TestStuckRollForward: a renewal committed, but a rename of its
// roll-forward fails (a key made immutable after the check before the
// commit: a race that check cannot see), so etcd/peer.crt is new and
// peer.key old. The read-only commands still report: one warning naming
// the transaction and the error, then their output; check-expiration
// shows the key mismatch and exits 3. The writing commands refuse and
// change nothing. Once the key may be replaced, the next command
// finishes the renewal.
func TestStuckRollForward(t *testing.T) {
	treetest.RequireChattr(t)
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	id := stuckRenewal(t, bin, n)
	key := filepath.Join(n.certDir, "etcd/peer.key")

	assertOneWarning := func(what, stderr string) {
		t.Helper()
		var warnings []string
		for _, l := range strings.Split(stderr, "\n") {
			if strings.HasPrefix(l, "[warning]") {
				warnings = append(warnings, l)
			}
		}
		if len(warnings) != 1 {
			t.Errorf("%s: %d warning lines, want 1; stderr:\n%s", what, len(warnings), stderr)
			return
		}
		for _, want := range []string{id, key, "chattr -i " + key} {
			if !strings.Contains(warnings[0], want) {
				t.Errorf("%s: warning %q does not mention %q", what, warnings[0], want)
			}
		}
	}

	code, stdout, stderr := runAll(t, nil, bin, append([]string{"check-expiration"}, n.flags()...)...)
	if code != 3 {
		t.Errorf("check-expiration: exit %d, want 3 (a problem)", code)
	}
	assertOneWarning("check-expiration", stderr)
	if !tableRowHas(stdout, "etcd-peer", "key-mismatch") {
		t.Errorf("check-expiration: no etcd-peer row with key-mismatch in:\n%s", stdout)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	assertErrLine(t, "check-expiration", lines[len(lines)-1], key, "")

	for _, args := range [][]string{{"certs", "list"}, {"restore"}} {
		code, stdout, stderr := runAll(t, nil, bin, append(args, n.flags()...)...)
		if code != 0 || stdout == "" {
			t.Errorf("certctl %s: exit %d, stdout %q; want 0 and its output", strings.Join(args, " "), code, stdout)
		}
		assertOneWarning("certctl "+strings.Join(args, " "), stderr)
	}

	before := snapshot(t, n)
	code, errLine := runAs(t, nil, bin, append([]string{"renew", "all"}, n.flags()...)...)
	if code != 1 {
		t.Errorf("renew all: exit %d, want 1", code)
	}
	assertErrLine(t, "renew all", errLine, id, "chattr -i "+key)
	treetest.AssertSame(t, before, snapshot(t, n))

	treetest.Chattr(t, "-i", key)
	code, _, stderr = runAll(t, nil, bin, append([]string{"check-expiration"}, n.flags()...)...)
	if code != 0 || !strings.Contains(stderr, "[recover] finished renewal "+id) {
		t.Errorf("check-expiration once the key may be replaced: exit %d, stderr:\n%s", code, stderr)
	}
	verifyOpenSSL(t, n.pairs(t, t.TempDir()))
	if left := leftovers(n.dir); len(left) > 0 {
		t.Errorf("left behind: %q", left)
	}
}

// stuckRenewal leaves in n what a renewal of etcd-peer leaves when it was
// stopped after its commit and its first rename, with the key immutable
// since: peer.crt new, the new key staged, the manifest written. The new
// pair is a real renewal's, made on a copy of the node. It returns the
// transaction's id.
//
// The manifest is internal/txn's format version 1, written here by hand:
// certctl itself no longer commits a transaction whose files cannot be
// replaced, and the race in between cannot be timed from a test.
func stuckRenewal(t *testing.T, bin string, n node) string {
	t.Helper()
	cp := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", n.dir, cp).CombinedOutput(); err != nil {
		t.Fatalf("copy the node: %v: %s", err, out)
	}
	cpNode := node{dir: cp, certDir: filepath.Join(cp, "pki")}
	run(t, bin, append([]string{"renew", "etcd-peer"}, cpNode.flags()...)...)
	newCert, err := os.ReadFile(filepath.Join(cpNode.certDir, "etcd/peer.crt"))
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := os.ReadFile(filepath.Join(cpNode.certDir, "etcd/peer.key"))
	if err != nil {
		t.Fatal(err)
	}

	const id = "20260101T000000Z-0badc0de"
	dir := filepath.Join(n.dir, txn.DirName, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Target string      `json:"target"`
		Staged string      `json:"staged"`
		Mode   os.FileMode `json:"mode"`
		UID    int         `json:"uid"`
		GID    int         `json:"gid"`
		SHA256 string      `json:"sha256"`
	}
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	certPath, keyPath := filepath.Join(n.certDir, "etcd/peer.crt"), filepath.Join(n.certDir, "etcd/peer.key")
	m := struct {
		Version int       `json:"version"`
		Created time.Time `json:"created"`
		Entries []entry   `json:"entries"`
	}{1, time.Now().UTC(), []entry{
		{certPath, "0", 0o644, 0, 0, sum(newCert)}, // renamed already: not in the folder
		{keyPath, "1", 0o600, 0, 0, sum(newKey)},
	}}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for p, b := range map[string][]byte{filepath.Join(dir, "1"): newKey, filepath.Join(dir, "manifest.json"): data, certPath: newCert} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(certPath, 0o644); err != nil {
		t.Fatal(err)
	}
	treetest.Chattr(t, "+i", keyPath)
	return id
}

// roMount makes dir a read-only bind mount of itself until the test ends.
// It skips the test where mounting is not allowed (not root, or a
// container without CAP_SYS_ADMIN).
func roMount(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a read-only mount needs root")
	}
	if out, err := exec.Command("mount", "--bind", dir, dir).CombinedOutput(); err != nil {
		t.Skipf("cannot bind-mount here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only here: %v: %s", err, out)
	}
}

// tableRowHas reports whether a row of a table printed by certctl starts
// with name and has the cell want.
func tableRowHas(table, name, want string) bool {
	for _, l := range strings.Split(table, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == name && strings.Contains(l, want) {
			return true
		}
	}
	return false
}
