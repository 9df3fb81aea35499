package phases

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/certctl/certctl/pki"
)

// checkWritable refuses, after the check pass and before the first write, a
// run that could not write its files: the folder of each file, or the
// nearest existing folder above it (in which the run would create the
// missing ones), must be writable and searchable by this process.
// access(2) answers for this process's user, with root's capabilities, and
// also reports a read-only file system (EROFS), even to root. Without this
// check such a run fails at its first write, after printing "Generating".
//
// It can still pass where a write then fails (a full disk, an NFS server
// that squashes root): every write is atomic, and the next run keeps what
// was written.
func checkWritable(paths []string) error {
	checked := map[string]bool{}
	for _, p := range paths {
		// A link to nothing (a file kept on a volume not mounted) looks
		// missing: the rename that writes the new file would replace the
		// link, and leave nothing where it points, as renew refuses to.
		if dest, ok := pki.DanglingLink(p); ok {
			return fmt.Errorf("cannot write %s: it is a symbolic link to %s, which does not exist, and certctl writes a file by renaming a new one over it, which would replace the link: mount the volume that holds %s or correct the link, or remove the link (rm %s), then run certctl again; nothing was written", p, dest, dest, p)
		}
		dir, err := nearestExisting(filepath.Dir(p))
		if err != nil {
			return err
		}
		if checked[dir] {
			continue
		}
		checked[dir] = true
		err = unix.Access(dir, unix.W_OK|unix.X_OK)
		switch {
		case errors.Is(err, unix.EROFS):
			return fmt.Errorf("cannot write %s: folder %s is on a read-only file system: remount it read-write, or choose another folder", p, dir)
		case err != nil:
			return fmt.Errorf("cannot write %s: folder %s is not writable (%w): run certctl as root, or fix the folder's permissions", p, dir, err)
		}
	}
	return nil
}

// nearestExisting returns dir, or its nearest ancestor that exists.
func nearestExisting(dir string) (string, error) {
	for {
		_, err := os.Stat(dir)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("check folder %s: %w", dir, err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir, nil
		}
		dir = parent
	}
}
