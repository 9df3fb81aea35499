//go:build unix

package renewal

import (
	"io/fs"
	"syscall"
)

// owner returns a file's user and group IDs.
func owner(st fs.FileInfo) (uid, gid int) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid), int(sys.Gid)
	}
	return -1, -1
}
