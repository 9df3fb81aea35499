package certdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckLinkedParents: certctl-backups may be a symbolic link to a
// folder on another disk, and CheckPrivate checked that folder but not
// the folders above it: one that another user may write (0777, not
// sticky) or owns lets them rename the backups away and put their own in
// their place, which restore installs as root. Such a parent is now
// refused, in one line naming it and what to do; a sticky one (/tmp) and
// the parents of a folder that is not a link are not.
func TestCheckLinkedParents(t *testing.T) {
	for _, tc := range []struct {
		name         string
		parent, disk os.FileMode // modes of the folders above the link's target: disk/parent/backups
		owner        int         // of parent; -1: as made
		link         bool
		want         string // "": accepted; else the folder named and what it says
	}{
		{"private", 0o755, 0o755, -1, true, ""},
		{"parent writable", 0o777, 0o755, -1, true, "parent:mode 0777, writable by other users"},
		{"grandparent writable", 0o755, 0o777, -1, true, "disk:mode 0777, writable by other users"},
		{"group-writable", 0o775, 0o755, -1, true, "parent:mode 0775"},
		{"sticky", 0o777 | os.ModeSticky, 0o755, -1, true, ""},
		{"another user's", 0o755, 0o755, 65534, true, "parent:owned by uid 65534"},
		{"not a link", 0o777, 0o755, -1, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			disk := filepath.Join(tmp, "disk")
			parent := filepath.Join(disk, "parent")
			backups := filepath.Join(parent, "backups")
			if err := os.MkdirAll(backups, 0o700); err != nil {
				t.Fatal(err)
			}
			for p, m := range map[string]os.FileMode{parent: tc.parent, disk: tc.disk} {
				if err := os.Chmod(p, m); err != nil {
					t.Fatal(err)
				}
			}
			if tc.owner >= 0 {
				if os.Geteuid() != 0 {
					t.Skip("chown needs root")
				}
				if err := os.Chown(parent, tc.owner, tc.owner); err != nil {
					t.Fatal(err)
				}
			}
			dir := backups
			if tc.link {
				dir = filepath.Join(tmp, "certctl-backups")
				if err := os.Symlink(backups, dir); err != nil {
					t.Fatal(err)
				}
			}
			err := CheckLinkedParents(dir, "backup folder")
			if tc.want == "" {
				if err != nil {
					t.Errorf("CheckLinkedParents = %v, want nil", err)
				}
				return
			}
			named, says, _ := strings.Cut(tc.want, ":")
			p := map[string]string{"parent": parent, "disk": disk}[named]
			for _, want := range []string{"backup folder " + dir + " is a symbolic link to " + backups + ", inside " + p + ", which is " + says, "then run certctl again"} {
				if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("CheckLinkedParents = %v, want one line saying %q", err, want)
				}
			}
		})
	}
}
