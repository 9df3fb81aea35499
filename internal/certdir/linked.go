package certdir

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/certctl/certctl/internal/filekind"
)

// CheckPrivateLinkable is CheckPrivate, then CheckLinkedParents: the
// checks of a folder certctl keeps beside the certificate folder that may
// be a symbolic link to another disk (certctl-backups, .certctl-pending).
func CheckPrivateLinkable(dir, what, planted string) error {
	if err := CheckPrivate(dir, what, planted); err != nil {
		return err
	}
	return CheckLinkedParents(dir, what)
}

// CheckLinkedParents refuses dir, a folder certctl keeps beside the
// certificate folder that may be a symbolic link to another disk
// (certctl-backups, .certctl-pending), when it is one and a folder above
// the folder it leads to may be written by another user: group- or
// other-writable and not sticky, or owned by another user than root or the
// one running certctl. That user could rename the folder away and put one
// of their own in its place, after CheckPrivate checked it. A folder that
// is not a link is not checked here: its parent is the certificate
// folder's, which certctl does not check either. what names the folder
// ("backup folder"), as for CheckPrivate.
func CheckLinkedParents(dir, what string) error {
	return checkLinkedParents(dir, what, os.Geteuid())
}

// checkLinkedParents is CheckLinkedParents for the user euid.
func checkLinkedParents(dir, what string, euid int) error {
	fi, err := os.Lstat(dir)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return nil // missing, or not a link: CheckPrivate says the rest
	}
	target, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil // a dangling link or a loop: CheckPrivate says so
	}
	for p := filepath.Dir(target); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("check %s %s: the folder it leads to, %s, is inside %s: %w", what, dir, target, p, err)
		}
		owner, _ := filekind.Owner(st) // -1: unknown
		perm := st.Mode().Perm()
		why, todo := "", ""
		switch {
		case perm&0o022 != 0 && st.Mode()&fs.ModeSticky == 0:
			why, todo = fmt.Sprintf("mode %04o, writable by other users", perm), "chmod go-w "+p
		case owner > 0 && owner != euid:
			why, todo = fmt.Sprintf("owned by uid %d, not by root or the user running certctl (uid %d)", owner, euid), "chown root "+p
		}
		if why != "" {
			return fmt.Errorf("%s %s is a symbolic link to %s, inside %s, which is %s, who could put a folder of their own in its place: run %s as root, or link %s to a folder whose parents only root may write, then run certctl again", what, dir, target, p, why, todo, dir)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
