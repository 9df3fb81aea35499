package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestSymlinkedFiles: certificate and key files that are symbolic links
// (one absolute, one relative, to a folder shared with something else) are
// refused by renew, named or in `all`, with one line naming the link, its
// target and what to do, and every file, the linked ones included, as it
// was. Renewing would replace the links by files and leave the linked
// files old.
func TestSymlinkedFiles(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	shared := filepath.Join(filepath.Dir(n.dir), "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	crt, key := filepath.Join(n.certDir, "apiserver.crt"), filepath.Join(n.certDir, "apiserver.key")
	for _, p := range []string{crt, key} {
		if err := os.Rename(p, filepath.Join(shared, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(shared, "apiserver.crt"), crt); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../shared/apiserver.key", key); err != nil {
		t.Fatal(err)
	}
	before, sharedBefore := snapshot(t, n), treetest.Snapshot(t, shared)

	for _, target := range []string{"apiserver", "all"} {
		code, errLine := runAs(t, nil, bin, append([]string{"renew", target}, n.flags()...)...)
		if code != 1 {
			t.Errorf("renew %s: exit %d, want 1", target, code)
		}
		assertErrLine(t, "renew "+target, errLine, crt+" is a symbolic link to "+filepath.Join(shared, "apiserver.crt"), "replace the link by the file")
	}
	// The key's link alone, relative.
	if err := os.Remove(crt); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(shared, "apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(crt, data, 0o644); err != nil {
		t.Fatal(err)
	}
	before[crt] = treetest.Snapshot(t, n.certDir)[crt]
	code, errLine := runAs(t, nil, bin, append([]string{"renew", "all"}, n.flags()...)...)
	if code != 1 {
		t.Errorf("renew all: exit %d, want 1", code)
	}
	assertErrLine(t, "renew all", errLine, key+" is a symbolic link to ../../shared/apiserver.key", "cp -p --remove-destination "+filepath.Join(shared, "apiserver.key")+" "+key)

	treetest.AssertSame(t, before, snapshot(t, n))
	treetest.AssertSame(t, sharedBefore, treetest.Snapshot(t, shared))
	if left := leftovers(n.dir); len(left) > 0 {
		t.Errorf("left behind: %q", left)
	}
}

// TestSymlinkedCertDir: a certificate folder that is itself a symbolic
// link (kept on another volume) is renewed in place: the link stays, the
// files it leads to are renewed and match, the backup holds files, and
// `restore latest` brings the old ones back.
func TestSymlinkedCertDir(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	real := filepath.Join(t.TempDir(), "pki")
	if err := os.Rename(n.certDir, real); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, n.certDir); err != nil {
		t.Fatal(err)
	}
	original := treetest.Snapshot(t, real)
	scratch := t.TempDir()
	old := serials(t, n.pairs(t, scratch))

	run(t, bin, append([]string{"renew", "all"}, n.flags()...)...)
	if st, err := os.Lstat(n.certDir); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a link: %v", n.certDir, err)
	}
	pairs := n.pairs(t, scratch)
	verifyOpenSSL(t, pairs)
	for name, s := range serials(t, pairs) {
		if s == old[name] {
			t.Errorf("%s was not renewed", name)
		}
	}
	backups, err := filepath.Glob(filepath.Join(n.dir, "certctl-backups", "*", "pki", "*.key"))
	if err != nil || len(backups) == 0 {
		t.Fatalf("no key in the backup: %v", err)
	}
	for _, b := range backups {
		if st, err := os.Lstat(b); err != nil || !st.Mode().IsRegular() {
			t.Errorf("backup %s is not a regular file: %v", b, err)
		}
	}

	out := run(t, bin, append([]string{"restore", "latest"}, n.flags()...)...)
	if !strings.Contains(out, "restored") {
		t.Errorf("restore latest said:\n%s", out)
	}
	treetest.AssertSame(t, original, treetest.Snapshot(t, real))
}
