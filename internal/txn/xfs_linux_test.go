package txn

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/certctl/certctl/internal/treetest"
)

// xfsLayouts are the ways a node's certificate folder ends up on another
// file system than the transaction folder beside it: a mount point of its
// own, or a link to a folder on another mount (/etc/kubernetes/pki ->
// /data/pki). Each makes a tree whose cert folder is on a new tmpfs of
// size bytes, and returns that tmpfs.
var xfsLayouts = []struct {
	name string
	make func(t *testing.T, size int) (tree, string)
}{
	{"mount point", func(t *testing.T, size int) (tree, string) {
		mnt := treetest.SmallFS(t, size)
		return newTreeAt(t, filepath.Dir(mnt), mnt), mnt
	}},
	{"linked folder", func(t *testing.T, size int) (tree, string) {
		dir := t.TempDir()
		mnt := treetest.SmallFS(t, size)
		real := filepath.Join(mnt, "pki")
		if err := os.Mkdir(real, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(real, filepath.Join(dir, "pki")); err != nil {
			t.Fatal(err)
		}
		return newTreeAt(t, dir, filepath.Join(dir, "pki")), mnt
	}},
}

// bindLayout is a certificate folder bind-mounted from another folder of
// the same file system as the transaction folder: the same st_dev, yet
// rename(2) between two mounts fails with EXDEV all the same. It cannot
// be filled without filling the transaction folder too (tests that fill
// use xfsLayouts only).
var bindLayout = struct {
	name string
	make func(t *testing.T, size int) (tree, string)
}{"bind mount on the same file system", func(t *testing.T, size int) (tree, string) {
	mnt := treetest.SmallFS(t, size)
	dir, src := filepath.Join(mnt, "etc"), filepath.Join(mnt, "data", "pki")
	for _, d := range []string{filepath.Join(dir, "pki"), src} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount(src, filepath.Join(dir, "pki"), "", unix.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind-mount %s: %v", src, err)
	}
	t.Cleanup(func() { treetest.Unmount(t, filepath.Join(dir, "pki")) })
	return newTreeAt(t, dir, filepath.Join(dir, "pki")), src
}}

// TestCommitFullTargetFileSystem: a transaction whose targets are on a full
// file system of their own fails before its commit point, naming the
// target's folder and the lack of space, and leaves every file as it was
// and nothing behind; once space is freed the same transaction commits.
// It used to copy the files over after its commit point, and so failed
// with the change committed and every later write refused until space was
// freed.
func TestCommitFullTargetFileSystem(t *testing.T) {
	for _, layout := range xfsLayouts {
		t.Run(layout.name, func(t *testing.T) {
			tr, mnt := layout.make(t, 64<<10)
			treetest.Fill(t, mnt)
			parent := filepath.Dir(tr.root)
			// The parent holds the transaction folder and the backups: no
			// name may appear there (Snapshot does not walk a link to a
			// folder, which the cert folder may be).
			before, beforeMnt := names(t, parent), treetest.Snapshot(t, mnt)
			err := tr.stage(t).Commit()
			treetest.ErrMentions(t, err, filepath.Dir(tr.files[0]), "no space", "nothing was changed")
			if err != nil && strings.Contains(err.Error(), "committed") {
				t.Errorf("error %q: the transaction failed after its commit point", err)
			}
			if after := names(t, parent); after != before {
				t.Errorf("%s holds %s, want %s as before", parent, after, before)
			}
			treetest.AssertSame(t, beforeMnt, treetest.Snapshot(t, mnt))
			if err := os.Remove(filepath.Join(mnt, "fill")); err != nil {
				t.Fatal(err)
			}
			if err := tr.stage(t).Commit(); err != nil {
				t.Fatalf("Commit after space was freed: %v", err)
			}
			tr.check(t, true)
			if left := append(tempFiles(t, parent), tempFiles(t, mnt)...); len(left) > 0 {
				t.Errorf("left behind: %q", left)
			}
		})
	}
}

// names lists the names in dir.
func names(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return strings.Join(out, " ")
}

// TestRecoverAcrossFileSystems builds the state a kill leaves at each step
// of a commit whose targets are on another file system than the
// transaction folder, and checks that RecoverIn ends with all-old or
// all-new files, and that no temporary file survives in the targets'
// folder.
func TestRecoverAcrossFileSystems(t *testing.T) {
	// beside is the temporary file stageBeside wrote for entry i.
	beside := func(tx *Txn, i int) string {
		e := tx.m.Entries[i]
		if e.Beside == "" {
			t.Fatalf("entry %d (%s) has no temporary file beside its target", i, e.Target)
		}
		return filepath.Join(filepath.Dir(e.Target), e.Beside)
	}
	prepare := func(t *testing.T, tx *Txn) {
		create, err := preflight(tx.m.Entries)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.makeFolders(create); err != nil {
			t.Fatal(err)
		}
		if err := tx.stageBeside(); err != nil {
			t.Fatal(err)
		}
	}
	// rewrite rewrites the committed manifest with each entry changed by f.
	rewrite := func(t *testing.T, tx *Txn, f func(*entry)) {
		m := tx.m
		m.Entries = append([]entry(nil), m.Entries...)
		for i := range m.Entries {
			f(&m.Entries[i])
		}
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tx.dir, manifestName), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		crash   func(t *testing.T, tx *Txn)
		wantNew bool
	}{
		{"staged, not committed", func(t *testing.T, tx *Txn) {}, false},
		{"temporary files listed, none written", func(t *testing.T, tx *Txn) {
			prepare(t, tx)
			os.Remove(beside(tx, 0))
			os.Remove(beside(tx, 1))
		}, false},
		{"one temporary file written", func(t *testing.T, tx *Txn) {
			prepare(t, tx)
			os.Remove(beside(tx, 1))
		}, false},
		{"temporary files written, not committed", prepare, false},
		{"manifest temp file only", func(t *testing.T, tx *Txn) {
			prepare(t, tx)
			os.WriteFile(filepath.Join(tx.dir, "."+manifestName+".tmp"), []byte(`{"version"`), 0o600)
		}, false},
		{"committed, nothing renamed", func(t *testing.T, tx *Txn) { commitUpTo(t, tx, 0) }, true},
		{"committed, one renamed, its staged file kept", func(t *testing.T, tx *Txn) {
			commitUpTo(t, tx, 0)
			if err := os.Rename(beside(tx, 0), tx.m.Entries[0].Target); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"committed, one renamed", func(t *testing.T, tx *Txn) { commitUpTo(t, tx, 1) }, true},
		{"committed, all renamed", func(t *testing.T, tx *Txn) { commitUpTo(t, tx, 3) }, true},
		{"committed, a temporary file removed since", func(t *testing.T, tx *Txn) {
			commitUpTo(t, tx, 0)
			os.Remove(beside(tx, 1))
		}, true},
		{"committed, a temporary file damaged", func(t *testing.T, tx *Txn) {
			commitUpTo(t, tx, 0)
			os.WriteFile(beside(tx, 1), []byte("garbage"), 0o600)
		}, true},
		{"committed, recovered by a certctl that knows no temporary files", func(t *testing.T, tx *Txn) {
			commitUpTo(t, tx, 0)
			rewrite(t, tx, func(e *entry) { e.Beside = "" })
		}, true},
		{"committed by a certctl that wrote no temporary files", func(t *testing.T, tx *Txn) {
			commitUpTo(t, tx, 0)
			for _, i := range []int{0, 1} {
				os.Remove(beside(tx, i))
			}
			rewrite(t, tx, func(e *entry) { e.Beside = "" })
		}, true},
	}
	for _, layout := range append(xfsLayouts, bindLayout) {
		for _, tt := range tests {
			t.Run(layout.name+"/"+tt.name, func(t *testing.T) {
				tr, mnt := layout.make(t, 1<<20)
				tx := tr.stage(t)
				tt.crash(t, tx)
				r, err := RecoverIn(tr.root, tr.scope())
				if err != nil {
					t.Fatalf("Recover: %v", err)
				}
				tr.check(t, tt.wantNew)
				if tt.wantNew && (len(r.Transactions) != 1 || !r.Transactions[0].Committed) {
					t.Errorf("report = %+v, want one committed transaction", r)
				}
				if left := append(tempFiles(t, filepath.Dir(tr.root)), tempFiles(t, mnt)...); len(left) > 0 {
					t.Errorf("temporary files left: %q", left)
				}
				r, err = RecoverIn(tr.root, tr.scope())
				if err != nil || len(r.Transactions)+len(r.Removed) != 0 {
					t.Errorf("second Recover = %+v, %v; want nothing to do", r, err)
				}
			})
		}
	}
}

// TestManifestVersionOfTemporaryFiles: a transaction with temporary files
// beside its targets keeps manifest version 1, which every certctl reads
// (one that knows no such files copies the staged file over, as it always
// did), and names them in its manifest.
func TestManifestVersionOfTemporaryFiles(t *testing.T) {
	tr, _ := xfsLayouts[0].make(t, 1<<20)
	tx := tr.stage(t)
	commitUpTo(t, tx, 0)
	data, err := os.ReadFile(filepath.Join(tx.dir, manifestName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"version": 1,`, `"beside": ".apiserver.key.tmp-`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("manifest does not say %s:\n%s", want, data)
		}
	}
}

// TestCommitRefusesMountedFile: a target that is a mount point (a file
// bind-mounted over a kubeconfig) cannot be replaced by a rename (EBUSY).
// The transaction found it only after its commit, and stayed committed,
// half applied, every certctl command failing to finish it until the file
// was unmounted. Commit now refuses it before its commit point, saying
// what to do, and leaves every file as it was.
func TestCommitRefusesMountedFile(t *testing.T) {
	tr := newTree(t)
	src := filepath.Join(t.TempDir(), "mounted")
	if err := os.WriteFile(src, []byte("mounted"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := tr.files[1]
	if err := unix.Mount(src, target, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind-mount %s: %v", src, err)
	}
	t.Cleanup(func() { treetest.Unmount(t, target) })
	parent := filepath.Dir(tr.certDir)
	before := treetest.Snapshot(t, parent)
	err := tr.stage(t).Commit()
	treetest.ErrMentions(t, err, "cannot replace "+target+": a file is mounted over it", "umount "+target, "nothing was changed")
	treetest.AssertSame(t, before, treetest.Snapshot(t, parent))
}
