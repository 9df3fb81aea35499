//go:build unix

package expiration

import (
	"io/fs"
	"syscall"
)

// owner returns a file's user ID, as phases/renewal's owner does.
func owner(fi fs.FileInfo) (uid int, ok bool) {
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid), true
	}
	return -1, false
}
