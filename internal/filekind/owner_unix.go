//go:build unix

package filekind

import (
	"io/fs"
	"syscall"
)

// Owner returns the user and group IDs of the file fi describes, -1 and
// -1 where files have no Unix owner.
func Owner(fi fs.FileInfo) (uid, gid int) {
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid), int(sys.Gid)
	}
	return -1, -1
}
