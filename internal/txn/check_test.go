package txn

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestCommitRefusesWhatCannotBeReplaced: a target that a rename could not
// replace fails Commit before its commit point, with one line naming the
// file and what to do, and leaves the tree byte-identical: no staged file,
// no new folder.
func TestCommitRefusesWhatCannotBeReplaced(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, tr tree) []string // returns what the error must say
	}{
		{"immutable file", func(t *testing.T, tr tree) []string {
			treetest.Chattr(t, "+i", tr.files[1])
			return []string{"cannot replace " + tr.files[1], "immutable", "chattr -i " + tr.files[1]}
		}},
		{"append-only file", func(t *testing.T, tr tree) []string {
			treetest.Chattr(t, "+a", tr.files[0])
			return []string{"cannot replace " + tr.files[0], "append-only", "chattr -a " + tr.files[0]}
		}},
		{"immutable folder", func(t *testing.T, tr tree) []string {
			treetest.Chattr(t, "+i", tr.certDir)
			return []string{"cannot write in folder " + tr.certDir, "chattr -i " + tr.certDir}
		}},
		{"append-only folder", func(t *testing.T, tr tree) []string {
			treetest.Chattr(t, "+a", tr.certDir)
			return []string{"cannot replace files in folder " + tr.certDir, "chattr -a " + tr.certDir}
		}},
		{"immutable folder above a new folder", func(t *testing.T, tr tree) []string {
			backups := filepath.Join(filepath.Dir(tr.certDir), "certctl-backups")
			if err := os.Mkdir(backups, 0o700); err != nil {
				t.Fatal(err)
			}
			treetest.Chattr(t, "+i", backups)
			return []string{"cannot write in folder " + backups, "chattr -i " + backups}
		}},
		{"read-only folder", func(t *testing.T, tr tree) []string {
			if os.Geteuid() == 0 {
				t.Skip("root writes in a read-only folder; test/cli TestUnreplaceableFiles runs certctl as nobody for this")
			}
			if err := os.Chmod(tr.certDir, 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(tr.certDir, 0o755) })
			return []string{"cannot write in folder " + tr.certDir, "permission denied", "fix the permissions"}
		}},
		{"symbolic link", func(t *testing.T, tr tree) []string {
			shared := filepath.Join(filepath.Dir(tr.certDir), "shared.key")
			if err := os.Rename(tr.files[1], shared); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("../shared.key", tr.files[1]); err != nil {
				t.Fatal(err)
			}
			return []string{tr.files[1] + " is a symbolic link to ../shared.key", "replace the link by the file", shared}
		}},
		{"folder where a file is", func(t *testing.T, tr tree) []string {
			if err := os.Remove(tr.files[0]); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(tr.files[0], 0o755); err != nil {
				t.Fatal(err)
			}
			return []string{tr.files[0] + " is a folder, not a file"}
		}},
		{"file where a folder is needed", func(t *testing.T, tr tree) []string {
			backups := filepath.Join(filepath.Dir(tr.certDir), "certctl-backups")
			if err := os.WriteFile(backups, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{backups + " is not a folder", "move it away"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			want := tt.spoil(t, tr)
			parent := filepath.Dir(tr.certDir)
			before := treetest.Snapshot(t, parent)
			tx := tr.stage(t)
			err := tx.Commit()
			treetest.ErrMentions(t, err, append(want, "nothing was changed")...)
			treetest.AssertSame(t, before, treetest.Snapshot(t, parent))
			// Aborted: a later Abort is a no-op, and nothing is left to recover.
			if err := tx.Abort(); err != nil {
				t.Errorf("Abort after a refused Commit: %v", err)
			}
			if r, err := RecoverIn(tr.root, tr.scope()); err != nil || len(r.Transactions)+len(r.Removed) != 0 {
				t.Errorf("Recover after a refused Commit = %+v, %v; want nothing to do", r, err)
			}
		})
	}
}

// TestRecoverRetriesWhatCannotBeReplaced: when a target cannot be replaced
// after the commit point (made immutable in the meantime), Recover says
// which file and what to do, keeps the transaction, and finishes it once
// that is done.
func TestRecoverRetriesWhatCannotBeReplaced(t *testing.T) {
	treetest.RequireChattr(t)
	tr := newTree(t)
	tx := tr.stage(t)
	commitUpTo(t, tx, 1) // the certificate is new, its key is not yet
	treetest.Chattr(t, "+i", tr.files[1])

	_, err := RecoverIn(tr.root, tr.scope())
	treetest.ErrMentions(t, err, tx.dir, "cannot replace "+tr.files[1], "chattr -i "+tr.files[1])
	if _, err := os.Stat(filepath.Join(tx.dir, manifestName)); err != nil {
		t.Fatalf("the committed transaction was not kept for the next try: %v", err)
	}
	if data, _ := os.ReadFile(tr.files[1]); string(data) != "old apiserver.key" {
		t.Errorf("%s = %q, want the old content while it is immutable", tr.files[1], data)
	}

	if out, err := exec.Command("chattr", "-i", tr.files[1]).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i: %v: %s", err, out)
	}
	r, err := RecoverIn(tr.root, tr.scope())
	if err != nil {
		t.Fatalf("Recover once the file may be replaced: %v", err)
	}
	if len(r.Transactions) != 1 || !r.Transactions[0].Committed {
		t.Errorf("report = %+v, want one committed transaction", r)
	}
	tr.check(t, true)
}

// TestLinkFromSymlink: a backup staged from a symbolic link holds the
// content, not the link (link(2) would link the symlink itself, and a
// relative one points nowhere from the backup folder).
func TestLinkFromSymlink(t *testing.T) {
	tr := newTree(t)
	link := filepath.Join(tr.certDir, "link.key")
	if err := os.Symlink("apiserver.key", link); err != nil {
		t.Fatal(err)
	}
	tx, err := Begin(tr.root, "20260301T120000Z-00000004", t0)
	if err != nil {
		t.Fatal(err)
	}
	backup := tr.files[2]
	if err := tx.Add(File{Target: backup, Data: []byte("old apiserver.key"), Mode: 0o600, UID: -1, GID: -1, LinkFrom: link}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Lstat(backup)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Mode().IsRegular() {
		t.Errorf("backup %s is %v, want a regular file", backup, st.Mode())
	}
	if data, _ := os.ReadFile(backup); string(data) != "old apiserver.key" {
		t.Errorf("backup = %q", data)
	}
}

func TestReplaceable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(dir, "abs.crt")
	rel := filepath.Join(dir, "rel.crt")
	dangling := filepath.Join(dir, "dangling.crt")
	for p, to := range map[string]string{abs: file, rel: "ca.crt", dangling: "gone.crt"} {
		if err := os.Symlink(to, p); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		path   string
		exists bool
		want   []string // in the error; none: no error
	}{
		{file, true, nil},
		{filepath.Join(dir, "absent.crt"), false, nil},
		{abs, false, []string{abs + " is a symbolic link to " + file, "cp -p --remove-destination " + file + " " + abs}},
		{rel, false, []string{rel + " is a symbolic link to ca.crt", "cp -p --remove-destination " + file + " " + rel}},
		{dangling, false, []string{dangling + " is a symbolic link to gone.crt", "replace the link by the file"}},
		{dir, false, []string{dir + " is a folder, not a file", "put the file back from a backup"}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			st, err := Replaceable(tt.path)
			if tt.want != nil {
				treetest.ErrMentions(t, err, tt.want...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (st != nil) != tt.exists {
				t.Errorf("Replaceable(%s) = %v, want exists %v", tt.path, st, tt.exists)
			}
		})
	}
}

// TestMkdirAll: the apply step creates a target's missing folders and
// returns them outermost first; a file where a folder must be (put there
// after the check, before a recovery) is named as such, not as a
// permission error, and nothing is created.
func TestMkdirAll(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b")
	created, err := mkdirAll(dir)
	if err != nil || len(created) != 2 || created[0] != filepath.Join(root, "a") || created[1] != dir {
		t.Fatalf("mkdirAll(%s) = %q, %v; want a then a/b", dir, created, err)
	}
	if created, err := mkdirAll(dir); err != nil || len(created) != 0 {
		t.Errorf("mkdirAll of an existing folder = %q, %v; want nothing", created, err)
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = mkdirAll(filepath.Join(file, "c", "d"))
	treetest.ErrMentions(t, err, file+" is not a folder", "move it away")
	if _, err := os.Lstat(filepath.Join(file, "c")); err == nil {
		t.Error("a folder was created under the file")
	}
}
