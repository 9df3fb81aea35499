//go:build !unix

package filekind

import "io/fs"

// Owner returns -1, -1: files have no Unix owner here.
func Owner(fs.FileInfo) (uid, gid int) { return -1, -1 }
