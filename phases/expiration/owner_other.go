//go:build !unix

package expiration

import "io/fs"

// owner reports no owner where files have no Unix owner.
func owner(fs.FileInfo) (uid int, ok bool) { return -1, false }
