package renewal

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLatestRefusesToPassOverADamagedNewerBackup: `restore latest` took
// the newest backup whose backup.json could be read, so when the last
// run's was damaged (a power loss, an edit) it restored the backup of the
// run before, saying only its folder: at 3 a.m. that undoes the wrong
// renewal. It now refuses, naming the damaged backup and the one before
// it, which the user may restore by name; that one, named, is restored.
func TestLatestRefusesToPassOverADamagedNewerBackup(t *testing.T) {
	n := newNode(t, nil)
	root, err := BackupRoot(n.certDir())
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for i := range 2 {
		res, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Duration(i+1)*time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, res.BackupDir)
	}
	if got, err := FindBackupIn([]string{root}, n.certDir(), "latest"); err != nil || got != dirs[1] {
		t.Fatalf("latest = %s, %v; want %s", got, err, dirs[1])
	}
	if err := os.WriteFile(filepath.Join(dirs[1], BackupManifestName), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := FindBackupIn([]string{root}, n.certDir(), "latest")
	if err == nil {
		t.Fatalf("latest = %s with the newest backup %s damaged; want an error", got, dirs[1])
	}
	for _, want := range []string{dirs[1], BackupManifestName, filepath.Base(dirs[0])} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	if got, err := FindBackupIn([]string{root}, n.certDir(), filepath.Base(dirs[0])); err != nil || got != dirs[0] {
		t.Errorf("by name: %s, %v; want %s", got, err, dirs[0])
	}
}

// TestLatestDamagedAfterClockSetBack: after the clock was set back, the
// last run's backup is dated before the one made first; damaged, it has
// no seq to be placed by, kept the place its name's time gives it, and
// `restore latest` took the one made first without a word. Now a damaged
// backup.json that still says its seq (another version's, or damaged
// after the seq) is placed by it, so latest refuses to pass over it; one
// that says none is passed over with a warning naming it and the backup
// taken, not refused (it may be an old one, kept). That warning came at
// every `restore latest`, and the prune's at every renewal, while such a
// backup was kept, without saying how to keep it and stop them: both now
// say to rename it out of certctl's names, after which neither comes.
func TestLatestDamagedAfterClockSetBack(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(m []byte) []byte
		refuse bool
	}{
		{"another version", func(m []byte) []byte { return []byte(strings.Replace(string(m), `"version": 1`, `"version": 2`, 1)) }, true},
		{"cut after its seq", func(m []byte) []byte {
			i := strings.Index(string(m), `"seq"`)
			return m[:i+len(`"seq": 2,`)]
		}, true},
		{"no seq", func([]byte) []byte { return []byte("{") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, nil)
			root, err := BackupRoot(n.certDir())
			if err != nil {
				t.Fatal(err)
			}
			var dirs []string
			for _, h := range []int{10, 5} { // the second run after the clock was set back
				res, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Duration(h)*time.Hour)))
				if err != nil {
					t.Fatal(err)
				}
				dirs = append(dirs, res.BackupDir)
			}
			p := filepath.Join(dirs[1], BackupManifestName)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), `"seq": 2`) {
				t.Fatalf("the last run's backup.json has no seq 2:\n%s", data)
			}
			if err := os.WriteFile(p, tc.damage(data), 0o600); err != nil {
				t.Fatal(err)
			}
			got, warnings, err := FindBackupWarn([]string{root}, n.certDir(), "latest")
			if tc.refuse {
				if err == nil {
					t.Fatalf("latest = %s, %q with the last run's backup %s damaged; want an error", got, warnings, dirs[1])
				}
				for _, want := range []string{dirs[1], filepath.Base(dirs[0])} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				return
			}
			if err != nil || got != dirs[0] || len(warnings) != 1 {
				t.Fatalf("latest = %s, %q, %v; want %s and one warning", got, warnings, err, dirs[0])
			}
			aside := "mv " + dirs[1] + " " + dirs[1] + ".damaged"
			for _, want := range []string{dirs[0], dirs[1], "seq 1", "clock was set back", "certctl restore " + filepath.Base(dirs[1]), aside} {
				if !strings.Contains(warnings[0], want) {
					t.Errorf("warning %q does not say %q", warnings[0], want)
				}
			}
			if strings.Contains(warnings[0], "names no certificate folder") {
				t.Errorf("warning %q says whose it may be, with the backups of one folder beside it", warnings[0])
			}
			_, _, damaged, err := PruneBackupsAfter(n.certDir(), 5, "")
			if err != nil || len(damaged) != 1 || !strings.Contains(NotPruned(damaged[0], 5), aside) {
				t.Errorf("prune: %d damaged, %v; want one, whose warning says %q", len(damaged), err, aside)
			}
			// Said again after a complete backup made later: the
			// clock may have been set back since that one too.
			res, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(6*time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			if got, warnings, err := FindBackupWarn([]string{root}, n.certDir(), "latest"); err != nil || got != res.BackupDir || len(warnings) != 1 {
				t.Errorf("after a new run: latest = %s, %q, %v; want %s", got, warnings, err, res.BackupDir)
			}
			// Set aside as the warning says: kept and listed, no
			// longer warned of.
			if err := exec.Command("sh", "-c", aside).Run(); err != nil {
				t.Fatal(err)
			}
			if got, warnings, err := FindBackupWarn([]string{root}, n.certDir(), "latest"); err != nil || got != res.BackupDir || len(warnings) != 0 {
				t.Errorf("set aside: latest = %s, %q, %v; want %s and no warning", got, warnings, err, res.BackupDir)
			}
			if _, _, damaged, err := PruneBackupsAfter(n.certDir(), 5, ""); err != nil || len(damaged) != 0 {
				t.Errorf("set aside: the prune still warns of %d damaged, %v", len(damaged), err)
			}
			all, err := ListBackups(root)
			if err != nil || !slices.ContainsFunc(all, func(b Backup) bool { return b.Dir == dirs[1]+".damaged" && b.Err != nil }) {
				t.Errorf("set aside: not listed as incomplete: %v, %v", all, err)
			}
		})
	}
}
