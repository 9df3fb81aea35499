//go:build unix

package external

import (
	"io/fs"
	"syscall"
)

// owner returns a file's user and group IDs, so that an installed file
// keeps the owner of the one it replaces, as renewal does.
func owner(st fs.FileInfo) (uid, gid int) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid), int(sys.Gid)
	}
	return -1, -1
}
