package certdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/certctl/certctl/internal/filekind"
)

// CheckPrivate refuses dir, a folder certctl keeps beside the certificate
// folder and makes 0700 (the transactions, the backups, the pending keys),
// when another user may write it: group- or other-writable, or owned by
// another user than root or the one running certctl. What that user put there,
// certctl would install as root (a transaction recovered, a backup
// restored) or use (a pending key, whose certificate the API would then
// issue). what names the folder ("transaction folder"), planted what the
// other user could put there. A folder that does not exist is no error.
func CheckPrivate(dir, what, planted string) error {
	return checkPrivate(dir, what, planted, os.Geteuid())
}

// checkPrivate is CheckPrivate for the user euid. Only the folder's owner
// or root may chmod or chown it: a user who is neither is told to do it as
// root.
func checkPrivate(dir, what, planted string, euid int) error {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	// Something else where the folder belongs failed every command that
	// writes, and check-expiration's recovery, with only "open DIR: not a
	// directory" or "too many levels of symbolic links": certctl makes the
	// folder when it needs it, so what is there must go.
	if parent, loop := filekind.Blocking(dir); parent != "" {
		kind := "a file, not a folder"
		if loop {
			kind = "a symbolic link that leads back to itself (a loop of symbolic links)"
		}
		return fmt.Errorf("%s %s is inside %s, which is %s: pass another folder, or correct %s (ls -l %s)", what, dir, parent, kind, parent, parent)
	}
	if errors.Is(err, syscall.ELOOP) {
		return fmt.Errorf("%s %s is a symbolic link that leads back to itself (a loop of symbolic links), not a folder: remove it (rm %s; certctl makes the folder when it needs it), then run certctl again", what, dir, dir)
	}
	if err != nil {
		return fmt.Errorf("check %s %s: %w", what, dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s %s is a %s, not a folder: move it away (mv %s %s.moved; certctl makes the folder when it needs it), then run certctl again", what, dir, filekind.Of(st.Mode()), dir, dir)
	}
	owner, _ := filekind.Owner(st) // -1: unknown
	asRoot := ""
	if euid != 0 && owner != euid {
		asRoot = "as root, "
	}
	if perm := st.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%s %s is mode %04o, writable by other users, who could put %s there: check that it holds only certctl's files (remove any other), %srun chmod 700 %s, then run certctl again", what, dir, perm, planted, asRoot, dir)
	}
	// root's is no one else's: a user who is not root, running certctl on
	// root's folders, is told to run it as root where it reads them.
	if owner > 0 && owner != euid {
		return fmt.Errorf("%s %s is owned by uid %d, not by the user running certctl (uid %d), who could put %s there: check that it holds only certctl's files (remove any other), %srun chown %d %s and chmod 700 %s, then run certctl again", what, dir, owner, euid, planted, asRoot, euid, dir, dir)
	}
	return nil
}
