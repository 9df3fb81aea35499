package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// backupsOf runs `renew all` times times and returns the backups made,
// oldest first.
func backupsOf(t *testing.T, bin string, n node, times int) []string {
	t.Helper()
	for range times {
		run(t, bin, append([]string{"renew", "all", "--quiet"}, n.flags()...)...)
	}
	entries, err := os.ReadDir(filepath.Join(n.dir, "certctl-backups"))
	if err != nil || len(entries) != times {
		t.Fatalf("certctl-backups: %d entries, %v; want %d", len(entries), err, times)
	}
	var dirs []string
	for _, e := range entries {
		dirs = append(dirs, filepath.Join(n.dir, "certctl-backups", e.Name()))
	}
	return dirs
}

// TestRestoreListDamagedSeq: the list showed SEQ "-" for a damaged
// backup whose backup.json still says its seq, which places it (here the
// newest, which stops `restore latest`); it shows the seq, INCOMPLETE.
func TestRestoreListDamagedSeq(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	dirs := backupsOf(t, bin, n, 2)
	p := filepath.Join(dirs[1], "backup.json")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), `"version": 1`, `"version": 2`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out := run(t, bin, append([]string{"restore"}, n.flags()...)...)
	if want := `(?m)^` + filepath.Base(dirs[1]) + ` +2 +- +INCOMPLETE$`; !regexp.MustCompile(want).MatchString(out) {
		t.Errorf("certctl restore: no line %q:\n%s", want, out)
	}
}

// TestRestoreLatestDamagedSetAside: a damaged backup with no seq, dated
// before the newest, is warned of at every `restore latest`; the warning
// says how to keep it without the warning, and once that is done no
// warning comes, and the list still shows it.
func TestRestoreLatestDamagedSetAside(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	dirs := backupsOf(t, bin, n, 2)
	if err := os.WriteFile(filepath.Join(dirs[0], "backup.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"restore", "latest", "--dry-run"}, n.flags()...)
	code, stdout, stderr := runAll(t, nil, bin, args...)
	aside := dirs[0] + ".damaged"
	if code != 0 || !strings.Contains(stderr, "[warning] `latest` took "+dirs[1]) || !strings.Contains(stderr, "mv "+dirs[0]+" "+aside) {
		t.Fatalf("certctl %s: exit %d, want 0 and a warning saying mv %s %s:\n%s%s", strings.Join(args, " "), code, dirs[0], aside, stdout, stderr)
	}
	if err := os.Rename(dirs[0], aside); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runAll(t, nil, bin, args...); code != 0 || strings.Contains(stderr, "[warning]") {
		t.Errorf("set aside: certctl %s: exit %d, want 0 and no warning:\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	if out := run(t, bin, append([]string{"restore"}, n.flags()...)...); !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(filepath.Base(aside)) + ` +- +- +INCOMPLETE$`).MatchString(out) {
		t.Errorf("set aside: not listed as INCOMPLETE:\n%s", out)
	}
}

// TestRestoreLinkedBackupsParent: a certctl-backups linked to a folder
// inside one that other users may write was used; restore latest and
// renew now refuse it in one line naming that folder and what to do.
func TestRestoreLinkedBackupsParent(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	mount := filepath.Join(t.TempDir(), "data")
	disk := filepath.Join(mount, "certctl-backups")
	if err := os.MkdirAll(disk, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(disk, filepath.Join(n.dir, "certctl-backups")); err != nil {
		t.Fatal(err)
	}
	run(t, bin, append([]string{"renew", "all", "--quiet"}, n.flags()...)...)
	if err := os.Chmod(mount, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"restore", "latest"}, {"renew", "all"}} {
		args = append(args, n.flags()...)
		code, stdout, stderr := runAll(t, nil, bin, args...)
		want := "inside " + mount + ", which is mode 0777, writable by other users"
		var line string // the error, one line (renew says first which folders it uses)
		for _, l := range strings.Split(stderr, "\n") {
			if strings.HasPrefix(l, "error: ") {
				line = l
			}
		}
		if code == 0 || !strings.Contains(line, want) || !strings.Contains(line, "chmod go-w "+mount) {
			t.Errorf("certctl %s: exit %d, want an error in one line saying %q:\n%s%s", strings.Join(args, " "), code, want, stdout, stderr)
		}
	}
}
