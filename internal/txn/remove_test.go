package txn

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// pendingKey is a file beside the certificate folder that a transaction
// of the tree removes, as a renewal through the certificates API removes
// the pending key of the certificate it installs.
func (tr tree) pendingKey(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(tr.root), ".certctl-pending")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "apiserver.key")
	if err := os.WriteFile(p, []byte("pending apiserver.key"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// pendingScope is the tree's scope with the pending-key folder.
func (tr tree) pendingScope() Scope {
	s := tr.scope()
	s.Folders = append(s.Folders, filepath.Join(filepath.Dir(tr.root), ".certctl-pending"))
	return s
}

// stageRemoving is stage plus the removal of the pending key, last.
func (tr tree) stageRemoving(t *testing.T, key string) *Txn {
	t.Helper()
	tx := tr.stage(t)
	if err := tx.Add(File{Target: key, Remove: true, Data: []byte("pending apiserver.key")}); err != nil {
		t.Fatal(err)
	}
	return tx
}

func checkKept(t *testing.T, key string, want bool) {
	t.Helper()
	_, err := os.Stat(key)
	switch {
	case want && err != nil:
		t.Errorf("%s is gone (%v), want it kept", key, err)
	case !want && !errors.Is(err, fs.ErrNotExist):
		t.Errorf("%s is still there (err %v), want it removed", key, err)
	}
}

// TestCommitRemoves: a removal staged with the writes removes its file at
// the commit, and only then: an aborted transaction leaves it. A file
// already gone is no error; nor does the removal make a folder.
func TestCommitRemoves(t *testing.T) {
	t.Run("commit", func(t *testing.T) {
		tr := newTree(t)
		key := tr.pendingKey(t)
		absent := filepath.Join(filepath.Dir(tr.root), "nowhere", "gone.key")
		tx := tr.stageRemoving(t, key)
		if err := tx.Add(File{Target: absent, Remove: true}); err != nil {
			t.Fatal(err)
		}
		checkKept(t, key, true)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		tr.check(t, true)
		checkKept(t, key, false)
		if _, err := os.Stat(filepath.Dir(absent)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the removal of a file in a missing folder made it (err %v)", err)
		}
	})
	t.Run("abort", func(t *testing.T) {
		tr := newTree(t)
		key := tr.pendingKey(t)
		tx := tr.stageRemoving(t, key)
		if err := tx.Abort(); err != nil {
			t.Fatal(err)
		}
		tr.check(t, false)
		checkKept(t, key, true)
	})
	t.Run("refused", func(t *testing.T) {
		tr := newTree(t)
		key := tr.pendingKey(t)
		for name, f := range map[string]File{
			"relative":          {Target: "pending/apiserver.key", Remove: true},
			"removed twice":     {Target: key, Remove: true},
			"written, removed":  {Target: tr.files[0], Remove: true},
			"removed with link": {Target: filepath.Join(tr.certDir, "x.key"), Remove: true, LinkFrom: tr.files[1]},
		} {
			tx := tr.stageRemoving(t, key)
			if err := tx.Add(f); err == nil {
				t.Errorf("%s: Add(%+v) succeeded", name, f)
			}
			tx.Abort()
		}
	})
}

// TestCommitRefusesWhatCannotBeRemoved: a removal whose file the commit
// could not unlink (a folder in its place) fails Commit before its commit
// point, as a write would, and leaves the tree byte-identical.
func TestCommitRefusesWhatCannotBeRemoved(t *testing.T) {
	tr := newTree(t)
	key := tr.pendingKey(t)
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(key, 0o700); err != nil {
		t.Fatal(err)
	}
	parent := filepath.Dir(tr.certDir)
	before := treetest.Snapshot(t, parent)
	tx := tr.stage(t)
	if err := tx.Add(File{Target: key, Remove: true}); err != nil {
		t.Fatal(err)
	}
	treetest.ErrMentions(t, tx.Commit(), key+" is a folder, not a file", "nothing was changed")
	treetest.AssertSame(t, before, treetest.Snapshot(t, parent))
}

// TestRecoverRemoval builds the state a kill leaves at each step of a
// commit that removes a file: before the commit point the file is kept,
// after it the file is gone once recovered, and a file that holds other
// content than the one staged for removal (replaced since) is kept.
func TestRecoverRemoval(t *testing.T) {
	tests := []struct {
		name    string
		crash   func(t *testing.T, tx *Txn, key string)
		wantNew bool
		kept    string // the key's content after recovery; "" for removed
	}{
		{"staged, not committed", func(t *testing.T, tx *Txn, key string) {}, false, "pending apiserver.key"},
		{"folders made, not committed", func(t *testing.T, tx *Txn, key string) {
			create, err := preflight(tx.m.Entries)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.makeFolders(create); err != nil {
				t.Fatal(err)
			}
		}, false, "pending apiserver.key"},
		{"manifest temp file only", func(t *testing.T, tx *Txn, key string) {
			os.WriteFile(filepath.Join(tx.dir, "."+manifestName+".tmp"), []byte(`{"version"`), 0o600)
		}, false, "pending apiserver.key"},
		{"committed, nothing applied", func(t *testing.T, tx *Txn, key string) { commitUpTo(t, tx, 0) }, true, ""},
		{"committed, writes applied, not the removal", func(t *testing.T, tx *Txn, key string) { commitUpTo(t, tx, 3) }, true, ""},
		{"committed, all applied", func(t *testing.T, tx *Txn, key string) { commitUpTo(t, tx, 4) }, true, ""},
		{"committed, the file replaced since", func(t *testing.T, tx *Txn, key string) {
			commitUpTo(t, tx, 0)
			os.WriteFile(key, []byte("another run's key"), 0o600)
		}, true, "another run's key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			key := tr.pendingKey(t)
			tx := tr.stageRemoving(t, key)
			tt.crash(t, tx, key)
			r, err := RecoverIn(tr.root, tr.pendingScope())
			if err != nil {
				t.Fatalf("Recover: %v", err)
			}
			tr.check(t, tt.wantNew)
			data, err := os.ReadFile(key)
			switch {
			case tt.kept == "" && !errors.Is(err, fs.ErrNotExist):
				t.Errorf("%s = %q (err %v) after recovery, want it removed", key, data, err)
			case tt.kept != "" && string(data) != tt.kept:
				t.Errorf("%s = %q (err %v) after recovery, want %q kept", key, data, err, tt.kept)
			}
			if tt.wantNew {
				if len(r.Transactions) != 1 || !r.Transactions[0].Committed || strings.Join(r.Transactions[0].Removes, " ") != key {
					t.Errorf("report = %+v, want one committed transaction that removes %s", r, key)
				}
				if got := strings.Join(r.Transactions[0].Targets, " "); strings.Contains(got, key) {
					t.Errorf("report's targets %q name the removed file as one that holds new content", got)
				}
			}
			r, err = RecoverIn(tr.root, tr.pendingScope())
			if err != nil || len(r.Transactions)+len(r.Removed) != 0 {
				t.Errorf("second Recover = %+v, %v; want nothing to do", r, err)
			}
		})
	}
}

// TestRecoverRefusesForeignRemoval: a committed transaction that removes
// a file outside the recovery's scope is refused as one that writes there
// is: left as it is, nothing removed or written.
func TestRecoverRefusesForeignRemoval(t *testing.T) {
	tr := newTree(t)
	key := tr.pendingKey(t)
	tx := tr.stageRemoving(t, key)
	commitUpTo(t, tx, 0)
	before := treetest.Snapshot(t, filepath.Dir(tr.root))
	_, err := RecoverIn(tr.root, tr.scope()) // without the pending-key folder
	var out *OutsideError
	if !errors.As(err, &out) || out.Path != key {
		t.Fatalf("Recover: %v, want refused naming %s", err, key)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(tr.root)))
}

// TestManifestVersionOfRemovals: a transaction with a removal writes
// manifest version 2, which a certctl that knows no removals refuses by
// its version (it would see an entry with no staged file); one without
// keeps version 1, which every certctl reads.
func TestManifestVersionOfRemovals(t *testing.T) {
	for _, remove := range []bool{false, true} {
		tr := newTree(t)
		tx := tr.stage(t)
		if remove {
			if err := tx.Add(File{Target: tr.pendingKey(t), Remove: true}); err != nil {
				t.Fatal(err)
			}
		}
		commitUpTo(t, tx, 0)
		data, err := os.ReadFile(filepath.Join(tx.dir, manifestName))
		if err != nil {
			t.Fatal(err)
		}
		want := `"version": 1,`
		if remove {
			want = `"version": 2,`
		}
		if !strings.Contains(string(data), want) {
			t.Errorf("remove %v: manifest does not say %s:\n%s", remove, want, data)
		}
	}
}
