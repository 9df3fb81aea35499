//go:build !linux

package copycerts

import "io/fs"

// umask is the usual file mode creation mask, where the process's is not
// read.
func umask() fs.FileMode { return 0o022 }
