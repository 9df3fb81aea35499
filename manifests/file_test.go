package manifests

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReplace(t *testing.T) {
	dir := t.TempDir()
	manifests := filepath.Join(dir, "manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(manifests, "kube-controller-manager.yaml")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	backups := BackupDir(path, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if want := filepath.Join(dir, "tmp", "certctl-backup-manifests-2026-03-01-12-00-00"); backups != want {
		t.Errorf("BackupDir = %s, want %s", backups, want)
	}
	if _, err := Replace(path, []byte("stale\n"), []byte("new\n"), backups); err == nil || !strings.Contains(err.Error(), "changed while") {
		t.Errorf("Replace with stale content: err = %v", err)
	}
	if _, err := Replace(path, []byte("old\n"), []byte("new\n"), manifests); err == nil || !strings.Contains(err.Error(), "kubelet would run the backup") {
		t.Errorf("Replace with the backup in the manifest folder: err = %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old\n" {
		t.Fatalf("a refused Replace wrote %q", got)
	}
	backup, err := Replace(path, []byte("old\n"), []byte("new\n"), backups)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "new\n" {
		t.Errorf("manifest = %q", got)
	}
	if got, _ := os.ReadFile(backup); string(got) != "old\n" {
		t.Errorf("backup = %q", got)
	}
	for _, p := range []string{path, backup} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600 kept", p, st.Mode(), err)
		}
	}
	if entries, _ := os.ReadDir(manifests); len(entries) != 1 {
		t.Errorf("the manifest folder holds %d entries, want 1", len(entries))
	}
}

// TestReplaceKeepsEarlierBackup: two edits of the same manifest in the
// same second (signer disable, then signer enable, from a script) get the
// same default backup folder. The second must not overwrite the first
// one's backup: the path the first run printed must still hold the
// manifest it replaced, and the second's backup its own old content.
func TestReplaceKeepsEarlierBackup(t *testing.T) {
	dir := t.TempDir()
	manifests := filepath.Join(dir, "manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(manifests, "kube-controller-manager.yaml")
	if err := os.WriteFile(path, []byte("original\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	backups := BackupDir(path, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	first, err := Replace(path, []byte("original\n"), []byte("second\n"), backups)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Replace(path, []byte("second\n"), []byte("third\n"), backups)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(first); string(got) != "original\n" {
		t.Errorf("first backup %s = %q after a second Replace in the same folder, want %q", first, got, "original\n")
	}
	if got, _ := os.ReadFile(second); string(got) != "second\n" {
		t.Errorf("second backup %s = %q, want %q", second, got, "second\n")
	}
	if first == second {
		t.Errorf("both backups are %s", first)
	}
	// The same old content again (a re-run that changed nothing in
	// between) does not pile up copies: its backup is the one there.
	if err := os.WriteFile(path, []byte("second\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := Replace(path, []byte("second\n"), []byte("third\n"), backups)
	if err != nil {
		t.Fatal(err)
	}
	if again != second {
		t.Errorf("backup of the same content = %s, want the existing %s", again, second)
	}
	if got, _ := os.ReadFile(path); string(got) != "third\n" {
		t.Errorf("manifest = %q", got)
	}
}

// TestPruneBackupDirs: a restart or manifest edit saves the old manifests
// in DIR/../tmp/certctl-backup-manifests-TIME (BackupDir), one folder a
// run. A daily run that retries a restart owed, or renews certificates of
// short validity, made one a day, never removed (1000 folders after three
// years, each scanned by every certctl command). PruneBackupDirs keeps the
// newest keep of certctl's own folders, by the time in their names; one
// named at or after since and not after now (the calling run's, or one
// another run made while it waited for the lock) is never removed; one
// named after now (made while the clock was ahead) is removed first, not
// kept as the newest: it had displaced every true backup but the run's
// own, and stayed while the clock was behind its name; kubeadm's folders
// and any other file in tmp/ are never touched; keep <= 0 keeps all.
func TestPruneBackupDirs(t *testing.T) {
	at := func(day int) time.Time { return time.Date(2026, 3, day, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name  string
		days  []int // certctl's folders, by the day in their names
		keep  int
		since time.Time
		now   time.Time // since when zero
		want  []int     // the days whose folders remain
	}{
		{name: "keep all", days: []int{1, 2, 3}, keep: 0, since: at(4), want: []int{1, 2, 3}},
		{name: "newest two", days: []int{3, 1, 2, 4}, keep: 2, since: at(4), want: []int{3, 4}},
		{name: "fewer than keep", days: []int{1}, keep: 2, since: at(1), want: []int{1}},
		{name: "ahead of the clock, set back since: removed first", days: []int{1, 5, 6, 2}, keep: 2, since: at(2), want: []int{1, 2}},
		{name: "ahead of the clock, within keep", days: []int{1, 9, 2}, keep: 3, since: at(2), want: []int{1, 2, 9}},
		{name: "another run's, made while this one waited", days: []int{1, 2, 3}, keep: 2, since: at(2), now: at(3), want: []int{2, 3}},
		{name: "none", keep: 3, since: at(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			manifestDir := filepath.Join(dir, "manifests")
			tmp := filepath.Join(dir, "tmp")
			for _, d := range tc.days {
				b := BackupDir(filepath.Join(manifestDir, "etcd.yaml"), at(d))
				if err := os.MkdirAll(b, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(b, "etcd.yaml"), []byte("old\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			// Not certctl's: kubeadm's, a copy named by hand, a file, and
			// what an interrupted prune left.
			others := []string{"kubeadm-backup-manifests-2026-01-01-00-00-00", "certctl-backup-manifests-pre-upgrade", "notes.txt"}
			for _, o := range others {
				p := filepath.Join(tmp, o)
				var err error
				if filepath.Ext(o) == ".txt" {
					err = os.WriteFile(p, nil, 0o600)
				} else {
					err = os.MkdirAll(p, 0o700)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			left := filepath.Join(tmp, ".removing-"+filepath.Base(BackupDir(filepath.Join(manifestDir, "x"), at(9))))
			if err := os.MkdirAll(filepath.Join(left, "sub"), 0o700); err != nil {
				t.Fatal(err)
			}
			now := tc.now
			if now.IsZero() {
				now = tc.since
			}
			removed, notRemoved, err := PruneBackupDirs(manifestDir, tc.keep, tc.since, now)
			if err != nil || notRemoved != nil {
				t.Fatal(err, notRemoved)
			}
			var want, wantRemoved []string
			for _, d := range tc.days {
				if slices.Contains(tc.want, d) {
					want = append(want, filepath.Base(BackupDir(filepath.Join(manifestDir, "x"), at(d))))
				} else {
					wantRemoved = append(wantRemoved, BackupDir(filepath.Join(manifestDir, "x"), at(d)))
				}
			}
			want = append(want, others...)
			if tc.keep <= 0 {
				want = append(want, filepath.Base(left))
			}
			slices.Sort(want)
			slices.Sort(wantRemoved)
			var got []string
			entries, _ := os.ReadDir(tmp)
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if !slices.Equal(got, want) {
				t.Errorf("tmp/ holds %q, want %q", got, want)
			}
			if !slices.Equal(removed, wantRemoved) {
				t.Errorf("removed %q, want %q (oldest first)", removed, wantRemoved)
			}
		})
	}
}
