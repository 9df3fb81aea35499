package renewal

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/treetest"
)

func (n *node) restoreOptions(now time.Time) Options {
	return Options{CertDir: n.certDir(), KubeconfigDir: n.Dir, Now: func() time.Time { return now }, Rand: rand.Reader}
}

// TestRestoreBringsBackExactBytes: after two renewals, restoring the first
// backup gives every file back byte for byte with its mode, saves what it
// replaced as a new backup, and restoring that one undoes the restore.
func TestRestoreBringsBackExactBytes(t *testing.T) {
	n := newNode(t, nil)
	root, _ := BackupRoot(n.certDir())
	os.Chmod(n.path("pki/apiserver.crt"), 0o640) // a mode the restore must keep
	original := treetest.Snapshot(t, n.Dir)

	first, err := Renew(context.Background(), n.targets(t, "all"), n.options(made.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	renewedTwice := withoutBackups(treetest.Snapshot(t, n.Dir))

	res, err := Restore(first.BackupDir, n.restoreOptions(made.Add(3*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Restored) != 7*2+4 { // the 7 pairs and 4 kubeconfigs that were renewed
		t.Errorf("restored %d files, want 18", len(res.Restored))
	}
	treetest.AssertSame(t, withoutBackups(original), withoutBackups(treetest.Snapshot(t, n.Dir)))
	if st, _ := os.Stat(n.path("pki/apiserver.crt")); st.Mode().Perm() != 0o640 {
		t.Errorf("apiserver.crt mode %v after restore, want 0640", st.Mode().Perm())
	}
	if res.BackupDir == "" {
		t.Fatal("the restore saved nothing of what it replaced")
	}

	// Restoring the same backup again changes nothing.
	again, err := Restore(first.BackupDir, n.restoreOptions(made.Add(4*time.Hour)))
	if err != nil || len(again.Restored) != 0 || again.BackupDir != "" {
		t.Errorf("second restore: %+v, %v", again, err)
	}
	// The restore's own backup undoes it.
	if _, err := Restore(res.BackupDir, n.restoreOptions(made.Add(5*time.Hour))); err != nil {
		t.Fatal(err)
	}
	treetest.AssertSame(t, renewedTwice, withoutBackups(treetest.Snapshot(t, n.Dir)))

	backups, err := ListBackups(root)
	if err != nil || len(backups) != 4 {
		t.Fatalf("ListBackups: %d, %v", len(backups), err)
	}
	if latest, err := FindBackup(root, "latest"); err != nil || latest != backups[3].Dir {
		t.Errorf("FindBackup(latest) = %s, %v", latest, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(n.certDir()), ".certctl-txn")); !os.IsNotExist(err) {
		t.Errorf("transaction folder left: %v", err)
	}
}

func withoutBackups(m map[string]string) map[string]string {
	out := map[string]string{}
	for p, h := range m {
		if !strings.Contains(p, BackupDirName) {
			out[p] = h
		}
	}
	return out
}

// TestRestoreRefuses: a damaged backup, a path outside the folders, another
// certificate folder, and a certificate that would not match its key are
// refused with every file as it was.
func TestRestoreRefuses(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(t *testing.T, n *node, dir string)
		opts    func(o *Options)
		want    []string
	}{
		{"damaged file", func(t *testing.T, n *node, dir string) {
			write(t, filepath.Join(dir, "pki", "apiserver.crt"), []byte("x"))
		}, nil, []string{"does not match its SHA-256"}},
		{"path outside", func(t *testing.T, n *node, dir string) {
			editManifest(t, dir, func(m *BackupManifest) { m.Files[0].Path = "/etc/passwd" })
		}, nil, []string{"/etc/passwd is in neither"}},
		{"backup path escapes", func(t *testing.T, n *node, dir string) {
			editManifest(t, dir, func(m *BackupManifest) { m.Files[0].Backup = "../../x" })
		}, nil, []string{"outside the backup folder"}},
		{"another cert folder", nil, func(o *Options) { o.CertDir = "/srv/pki" }, []string{"was taken of --cert-dir", "pass those"}},
		{"reuse-key backup after new keys", func(t *testing.T, n *node, dir string) {
			// Drop the keys from the backup, as --reuse-key takes it.
			editManifest(t, dir, func(m *BackupManifest) {
				m.Files = slices.DeleteFunc(m.Files, func(f BackupFile) bool { return strings.HasSuffix(f.Path, ".key") })
			})
		}, nil, []string{"would not match", "--reuse-key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, nil)
			res, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			if tc.breakIt != nil {
				tc.breakIt(t, n, res.BackupDir)
			}
			o := n.restoreOptions(made.Add(2 * time.Hour))
			if tc.opts != nil {
				tc.opts(&o)
			}
			snap := treetest.Snapshot(t, n.Dir)
			_, err = Restore(res.BackupDir, o)
			treetest.ErrMentions(t, err, tc.want...)
			treetest.AssertSame(t, snap, treetest.Snapshot(t, n.Dir))
		})
	}
}

func editManifest(t *testing.T, dir string, edit func(m *BackupManifest)) {
	t.Helper()
	m, err := ReadBackupManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, BackupManifestName), data)
}

// TestPruneBackups keeps the newest complete backups, leaves folders that
// are not complete backups, and finishes a prune that was interrupted.
func TestPruneBackups(t *testing.T) {
	n := newNode(t, nil)
	root, _ := BackupRoot(n.certDir())
	for i := range 4 {
		if _, err := Renew(context.Background(), n.targets(t, "admin.conf"), n.options(made.Add(time.Duration(i+1)*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(root, "00000000-by-hand"), 0o700)
	os.MkdirAll(filepath.Join(root, atomicfile.RemovingPrefix+"20250101T000000Z", "pki"), 0o700)
	before, _ := ListBackups(root)
	removed, left, err := PruneBackups(n.certDir(), 2)
	if err != nil || left != nil {
		t.Fatal(err, left)
	}
	if !slices.Equal(removed, []string{before[1].Dir, before[2].Dir}) {
		t.Errorf("removed %q; backups were %v", removed, before)
	}
	after, _ := ListBackups(root)
	var names []string
	for _, b := range after {
		names = append(names, b.Name)
	}
	if want := []string{"00000000-by-hand", before[3].Name, before[4].Name}; !slices.Equal(names, want) {
		t.Errorf("left %q, want %q", names, want)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 3 {
		t.Errorf("%d entries left in %s, want 3 (no %s folder)", len(entries), root, atomicfile.RemovingPrefix)
	}
	if removed, _, err := PruneBackups(n.certDir(), 0); err != nil || removed != nil {
		t.Errorf("keep 0 removed %q, %v", removed, err)
	}
}
