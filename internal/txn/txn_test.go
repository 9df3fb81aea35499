package txn

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// tree is a cert folder with two old files and the transaction root beside it.
type tree struct {
	root, certDir string
	files         []string // targets, absolute
}

func newTree(t *testing.T) tree {
	t.Helper()
	dir := t.TempDir()
	return newTreeAt(t, dir, filepath.Join(dir, "pki"))
}

// newTreeAt is newTree with the cert folder certDir, in dir or linked
// from it, and the transaction root in dir.
func newTreeAt(t *testing.T, dir, certDir string) tree {
	t.Helper()
	if err := os.MkdirAll(certDir, 0o755); err != nil {
		t.Fatal(err)
	}
	tr := tree{root: filepath.Join(dir, DirName), certDir: certDir}
	for _, n := range []string{"apiserver.crt", "apiserver.key"} {
		p := filepath.Join(certDir, n)
		if err := os.WriteFile(p, []byte("old "+n), 0o644); err != nil {
			t.Fatal(err)
		}
		tr.files = append(tr.files, p)
	}
	// A new file in a folder that does not exist yet, like a backup.
	tr.files = append(tr.files, filepath.Join(dir, "certctl-backups", "20260301T120000Z", "pki", "apiserver.key"))
	return tr
}

// scope is what the transactions of the tree may write, as certctl's
// lock scopes them: kubeadm's layout around the certificate folder.
func (tr tree) scope() Scope {
	dir := filepath.Dir(tr.root)
	return Scope{Folders: []string{dir, tr.certDir, filepath.Join(tr.certDir, "etcd")}, Trees: []string{filepath.Join(dir, "certctl-backups")}}
}

// stage begins a transaction that replaces every file of the tree.
func (tr tree) stage(t *testing.T) *Txn {
	t.Helper()
	tx, err := Begin(tr.root, "20260301T120000Z-00000001", t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tr.files {
		if err := tx.Add(File{Target: p, Data: []byte("new " + filepath.Base(p)), Mode: 0o600, UID: -1, GID: -1}); err != nil {
			t.Fatal(err)
		}
	}
	return tx
}

func (tr tree) check(t *testing.T, wantNew bool) {
	t.Helper()
	for i, p := range tr.files {
		data, err := os.ReadFile(p)
		isNew := i == len(tr.files)-1
		if isNew && !wantNew {
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s exists after an aborted transaction", p)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want := "old " + filepath.Base(p)
		if wantNew {
			want = "new " + filepath.Base(p)
		}
		if string(data) != want {
			t.Errorf("%s = %q, want %q", p, data, want)
		}
		if st, _ := os.Stat(p); wantNew && st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", p, st.Mode().Perm())
		}
	}
	if _, err := os.Stat(tr.root); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("transaction folder %s still exists (err %v)", tr.root, err)
	}
	// The new file's folders are made before the commit point: an
	// uncommitted transaction must remove them.
	if backups := filepath.Join(filepath.Dir(tr.root), "certctl-backups"); !wantNew {
		if _, err := os.Stat(backups); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("folder %s made for the transaction still exists (err %v)", backups, err)
		}
	}
}

func TestCommit(t *testing.T) {
	tr := newTree(t)
	tx := tr.stage(t)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tr.check(t, true)
	st, err := os.Stat(filepath.Dir(tr.files[2]))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != TargetDirMode {
		t.Errorf("new folder mode = %v, want %v", st.Mode().Perm(), TargetDirMode)
	}
	if err := tx.Commit(); err == nil {
		t.Error("second Commit succeeded")
	}
}

func TestAbort(t *testing.T) {
	tr := newTree(t)
	tx := tr.stage(t)
	if err := tx.Abort(); err != nil {
		t.Fatal(err)
	}
	tr.check(t, false)
}

func TestAddRejects(t *testing.T) {
	tr := newTree(t)
	tx := tr.stage(t)
	defer tx.Abort()
	for name, target := range map[string]string{
		"relative": "pki/x.crt",
		"twice":    tr.files[0],
	} {
		if err := tx.Add(File{Target: target, Mode: 0o600}); err == nil {
			t.Errorf("%s: Add(%q) succeeded", name, target)
		}
	}
	if _, err := Begin(tr.root, "../escape", t0); err == nil {
		t.Error("Begin accepted an id with a path separator")
	}
}

// TestRecover builds the state a kill leaves at each step of a commit and
// checks that Recover ends with all-old or all-new files and no leftovers.
func TestRecover(t *testing.T) {
	tests := []struct {
		name    string
		crash   func(t *testing.T, tx *Txn)
		wantNew bool
	}{
		{"staged, not committed", func(t *testing.T, tx *Txn) {}, false},
		{"manifest temp file only", func(t *testing.T, tx *Txn) {
			os.WriteFile(filepath.Join(tx.dir, "."+manifestName+".tmp"), []byte(`{"version"`), 0o600)
		}, false},
		{"empty transaction folder", func(t *testing.T, tx *Txn) {
			os.RemoveAll(tx.dir)
			os.Mkdir(tx.dir, 0o700)
		}, false},
		{"empty root", func(t *testing.T, tx *Txn) { os.RemoveAll(tx.dir) }, false},
		{"folders made, not committed", func(t *testing.T, tx *Txn) {
			create, err := preflight(tx.m.Entries)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.makeFolders(create); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Dir(tx.m.Entries[2].Target)); err != nil {
				t.Fatalf("makeFolders did not make the new file's folder: %v", err)
			}
		}, false},
		{"committed, nothing renamed", func(t *testing.T, tx *Txn) { commitUpTo(t, tx, 0) }, true},
		{"committed, one renamed", func(t *testing.T, tx *Txn) { commitUpTo(t, tx, 1) }, true},
		{"committed, two renamed", func(t *testing.T, tx *Txn) { commitUpTo(t, tx, 2) }, true},
		{"committed, all renamed", func(t *testing.T, tx *Txn) { commitUpTo(t, tx, 3) }, true},
		{"finished, removal interrupted", func(t *testing.T, tx *Txn) {
			// What a kill while finish removes the folder leaves: part
			// of it, the manifest already gone, the folder list not.
			commitUpTo(t, tx, 3)
			done := tx.dir + finishedSuffix
			if err := os.Rename(tx.dir, done); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(done, manifestName))
		}, true},
		{"copy across file systems interrupted", func(t *testing.T, tx *Txn) {
			commitUpTo(t, tx, 1)
			// What copyOver leaves when killed before its rename.
			os.WriteFile(filepath.Join(filepath.Dir(tx.m.Entries[1].Target), ".apiserver.key.tmp-42"), []byte("new"), 0o600)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			tx := tr.stage(t)
			tt.crash(t, tx)
			r, err := RecoverIn(tr.root, tr.scope())
			if err != nil {
				t.Fatalf("Recover: %v", err)
			}
			tr.check(t, tt.wantNew)
			// A finished transaction whose folder was being removed is
			// not reported: every file was in place, and "discarded"
			// would say that none had changed.
			finished := strings.HasPrefix(tt.name, "finished")
			if tt.wantNew && !finished && (len(r.Transactions) != 1 || !r.Transactions[0].Committed) {
				t.Errorf("report = %+v, want one committed transaction", r)
			}
			if finished && len(r.Transactions) != 0 {
				t.Errorf("report = %+v, want no transaction: it had finished", r)
			}
			if tt.wantNew {
				if _, err := os.Stat(filepath.Dir(tx.m.Entries[2].Target)); err != nil {
					t.Errorf("the folder made for a new file is gone: %v", err)
				}
			}
			if leftovers := tempFiles(t, filepath.Dir(tr.root)); len(leftovers) > 0 {
				t.Errorf("temporary files left: %q", leftovers)
			}
			// Recover is idempotent: a second run finds nothing.
			r, err = RecoverIn(tr.root, tr.scope())
			if err != nil || len(r.Transactions)+len(r.Removed) != 0 {
				t.Errorf("second Recover = %+v, %v; want nothing to do", r, err)
			}
		})
	}
}

// TestKilledWhileRemoved stops Commit's removal of its finished
// transaction folder after its first step, as a kill there would: the
// next recovery must not report the transaction as one that changed no
// file (it changed every one), and must leave the files and the new
// folder as they are.
func TestKilledWhileRemoved(t *testing.T) {
	tr := newTree(t)
	tx := tr.stage(t)
	removeAll = func(string) error { return errors.New("killed") }
	err := tx.Commit()
	removeAll = os.RemoveAll
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Commit = %v, want the stopped removal's error", err)
	}
	r, err := RecoverIn(tr.root, tr.scope())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range r.Transactions {
		if !o.Committed {
			t.Errorf("recovery reports transaction %s as discarded before its commit; it had finished", o.ID)
		}
	}
	tr.check(t, true)
	if _, err := os.Stat(tr.files[2]); err != nil {
		t.Errorf("the new file is gone: %v", err)
	}
}

// commitUpTo writes the manifest and renames only the first n staged files,
// as a commit killed at that point does.
func commitUpTo(t *testing.T, tx *Txn, n int) {
	t.Helper()
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
	if err := tx.writeManifest(); err != nil {
		t.Fatal(err)
	}
	m := tx.m
	m.Entries = m.Entries[:n]
	if err := apply(tx.dir, m, false); err != nil {
		t.Fatal(err)
	}
}

func TestRecoverRefusesDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(tx *Txn)
		want   string
	}{
		{"staged file changed", func(tx *Txn) {
			os.WriteFile(filepath.Join(tx.dir, tx.m.Entries[1].Staged), []byte("garbage"), 0o600)
		}, "does not match its manifest"},
		{"manifest garbage", func(tx *Txn) {
			os.WriteFile(filepath.Join(tx.dir, manifestName), []byte("{"), 0o600)
		}, "restore them from the latest backup"},
		{"manifest from the future", func(tx *Txn) {
			os.WriteFile(filepath.Join(tx.dir, manifestName), []byte(`{"version": 99}`), 0o600)
		}, "manifest version 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			tx := tr.stage(t)
			commitUpTo(t, tx, 0)
			tt.damage(tx)
			_, err := RecoverIn(tr.root, tr.scope())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Recover error = %v, want one containing %q", err, tt.want)
			}
			// Nothing was replaced from a damaged transaction... unless
			// files before the damaged one were checked and renamed; here
			// the first entry is intact, so check only the damaged one.
			if data, _ := os.ReadFile(tr.files[1]); string(data) != "old apiserver.key" {
				t.Errorf("%s was replaced from a damaged transaction: %q", tr.files[1], data)
			}
		})
	}
}

func TestNewID(t *testing.T) {
	id, err := NewID(t0, strings.NewReader("\x01\x02\x03\x04"))
	if err != nil {
		t.Fatal(err)
	}
	if id != "20260301T120000Z-01020304" {
		t.Errorf("NewID = %q", id)
	}
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && (strings.Contains(d.Name(), ".tmp-") || d.Name() == DirName) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestCommitAcrossFileSystems: a target on another file system than the
// transaction folder (a certificate folder mounted on its own) is copied
// atomically instead of renamed, and keeps its mode and owner.
func TestCommitAcrossFileSystems(t *testing.T) {
	other, err := os.MkdirTemp("/dev/shm", "certctl-txn-test-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(other) })
	root := filepath.Join(t.TempDir(), DirName)
	var a, b syscall.Stat_t
	syscall.Stat(other, &a)
	syscall.Stat(filepath.Dir(root), &b)
	if a.Dev == b.Dev {
		t.Skip("/dev/shm is on the same file system as the temporary folder")
	}
	target := filepath.Join(other, "apiserver.key")
	os.WriteFile(target, []byte("old"), 0o644)
	tx, err := Begin(root, "20260301T120000Z-00000002", t0)
	if err != nil {
		t.Fatal(err)
	}
	uid := -1
	if os.Geteuid() == 0 {
		uid = 4321
	}
	if err := tx.Add(File{Target: target, Data: []byte("new"), Mode: 0o600, UID: uid, GID: uid}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(target)
	st, _ := os.Stat(target)
	if string(data) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("target = %q, mode %v; want new, 0600", data, st.Mode().Perm())
	}
	if sys := st.Sys().(*syscall.Stat_t); uid >= 0 && int(sys.Uid) != uid {
		t.Errorf("owner %d, want %d", sys.Uid, uid)
	}
	if left := tempFiles(t, other); len(left) > 0 {
		t.Errorf("left behind: %q", left)
	}
	if _, err := os.Stat(root); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("transaction folder left: %v", err)
	}
}

// TestLinkFrom: a file staged as a hard link of the file it backs up holds
// the old content after that file is replaced in the same transaction; a
// link that cannot be made falls back to writing the data.
func TestLinkFrom(t *testing.T) {
	tr := newTree(t)
	tx, err := Begin(tr.root, "20260301T120000Z-00000003", t0)
	if err != nil {
		t.Fatal(err)
	}
	key := tr.files[1]
	backup := tr.files[2]
	missingSrc := filepath.Join(filepath.Dir(backup), "other.key")
	for _, f := range []File{
		{Target: backup, Data: []byte("old apiserver.key"), Mode: 0o644, UID: -1, GID: -1, LinkFrom: key},
		{Target: missingSrc, Data: []byte("written"), Mode: 0o600, UID: -1, GID: -1, LinkFrom: filepath.Join(tr.certDir, "absent")},
		{Target: key, Data: []byte("new apiserver.key"), Mode: 0o600, UID: -1, GID: -1},
	} {
		if err := tx.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{backup: "old apiserver.key", key: "new apiserver.key", missingSrc: "written"} {
		if got, _ := os.ReadFile(p); string(got) != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
}
