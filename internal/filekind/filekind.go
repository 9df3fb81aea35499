// Package filekind names the kind of a file that is not a regular file, for
// the messages of the readers that refuse one (pki.ReadFile and the files
// certctl reads through it) and of the lock file's check (internal/lock):
// one spelling for both, below pki and lock alike; a file's owner
// (Owner), for the writers that keep it and the checks of who may write;
// and a symbolic link that leads back to itself (LinkLoop), or the parent
// that no path below it can pass through (Blocking), for the checks of
// the files and folders certctl is given.
package filekind

import "io/fs"

// Of names what a file of mode m is, for a message: FIFO, socket, device,
// folder, special file, or file (a regular one, where a folder belongs).
func Of(m fs.FileMode) string {
	switch t := m.Type(); {
	case t == 0:
		return "file"
	case t&fs.ModeNamedPipe != 0:
		return "FIFO"
	case t&fs.ModeSocket != 0:
		return "socket"
	case t&fs.ModeDevice != 0:
		return "device"
	case t&fs.ModeDir != 0:
		return "folder"
	}
	return "special file"
}
