package txn

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// Why Commit checks before it commits: once manifest.json exists, a
// transaction only goes forward. A rename that fails after that point (an
// immutable key, a read-only folder) leaves the targets half replaced, a
// certificate that does not match its key, until someone fixes the cause
// and the next certctl command finishes the transaction. So Commit first
// makes the checks rename(2) makes, on every target and folder, and
// creates the folders that do not exist yet; any failure aborts the
// transaction before its commit point, with every target as it was.

// Replaceable checks that path is a file a transaction may replace: a
// regular file, or nothing. It returns path's Lstat information, nil when
// path does not exist.
//
// A symbolic link is refused. A transaction renames a new file over its
// target, which would replace the link itself and leave the file it points
// to as it was (kubeadm writes through links, so nodes have them, often to
// share a file between two folders).
func Replaceable(path string) (fs.FileInfo, error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil // ENOTDIR: a file where a folder of path should be
	}
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", path, err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return nil, linkError(path)
	}
	if !st.Mode().IsRegular() {
		kind := "not a regular file"
		if st.IsDir() {
			kind = "a folder, not a file"
		}
		return nil, fmt.Errorf("%s is %s: certctl replaces regular files only; move it away and put the file back from a backup (certctl restore), then run certctl again", path, kind)
	}
	return st, nil
}

func linkError(path string) error {
	dest, err := os.Readlink(path)
	if err != nil {
		dest = "a file certctl cannot read the name of"
	}
	fix := "replace the link by the file it points to"
	if real, err := filepath.EvalSymlinks(path); err == nil {
		fix += fmt.Sprintf(" (cp -p --remove-destination %s %s)", real, path)
	}
	return fmt.Errorf("%s is a symbolic link to %s: certctl replaces a file by renaming a new one over it, which would replace the link and leave the file it points to unchanged; %s, then run certctl again", path, dest, fix)
}

// Check makes, without writing anything, the checks Commit makes before
// its commit point on files to be written at targets (absolute paths), and
// returns the first failure, which names the file or folder and what to
// do. Commit checks again; Check is for refusing before slow work, such as
// waiting for a CSR to be approved.
func Check(targets []string) error {
	entries := make([]entry, len(targets))
	for i, p := range targets {
		entries[i].Target = p
	}
	_, err := preflight(entries)
	return err
}

// preflight proves, without writing anything, that apply can put every
// entry in place, and remove each it removes: each existing target is a regular file that is neither
// immutable nor append-only, in a folder certctl may write and replace
// files in; each new target's folder, or the nearest folder above it that
// exists, may be written. It returns the folders to create, outermost
// first.
func preflight(entries []entry) ([]string, error) {
	var create []string
	checked := map[string]bool{} // folder -> checked for replacing files in it too
	for _, e := range entries {
		st, err := Replaceable(e.Target)
		if err != nil {
			return nil, err
		}
		dir := filepath.Dir(e.Target)
		if e.Remove && st == nil {
			continue // nothing to remove, and no folder to make
		}
		// A removal is an unlink(2), which needs what a rename over the
		// file needs: the file neither immutable nor append-only, its
		// folder writable and not append-only.
		if st != nil {
			if err := checkFile(e.Target); err != nil {
				return nil, err
			}
			if !checked[dir] {
				if err := checkDir(dir, true); err != nil {
					return nil, err
				}
				checked[dir] = true
			}
			continue
		}
		missing, existing, err := missingDirs(dir)
		if err != nil {
			return nil, err
		}
		if _, ok := checked[existing]; !ok {
			if err := checkDir(existing, false); err != nil {
				return nil, err
			}
			checked[existing] = false
		}
		for _, d := range missing {
			if !slices.Contains(create, d) {
				create = append(create, d)
			}
		}
	}
	return create, nil
}

// missingDirs returns the folders of dir that do not exist, outermost
// first, and the nearest one that does.
func missingDirs(dir string) (missing []string, existing string, err error) {
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err == nil {
			if !st.IsDir() {
				return nil, "", fmt.Errorf("cannot create folder %s: %s is not a folder: move it away, then run certctl again", dir, d)
			}
			return missing, d, nil
		}
		// ENOTDIR: a file on the way, which the loop finds above.
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return nil, "", fmt.Errorf("check folder %s: %w", d, err)
		}
		if d == filepath.Dir(d) {
			return nil, "", fmt.Errorf("check folder %s: %w", dir, err)
		}
		missing = append([]string{d}, missing...)
	}
}

// checkFile checks that rename(2) may replace path: Linux refuses (EPERM,
// even to root) to unlink an immutable or append-only file, and (EBUSY) a
// file that is a mount point. Without this check a bind-mounted
// kubeconfig was found only after the commit: the transaction stayed
// committed, half applied, and every certctl command failed to finish it
// until the file was unmounted.
func checkFile(path string) error {
	immutable, appendOnly := attrs(path)
	switch {
	case mountRoot(path):
		return fmt.Errorf("cannot replace %s: a file is mounted over it (a bind mount, see findmnt %s), and the kernel refuses to rename a new file over a mount point: unmount it (umount %s) and put the file itself there, then run certctl again", path, path, path)
	case immutable:
		return fmt.Errorf("cannot replace %s: the file is immutable (chattr +i): run chattr -i %s, then run certctl again", path, path)
	case appendOnly:
		return fmt.Errorf("cannot replace %s: the file is append-only (chattr +a): run chattr -a %s, then run certctl again", path, path)
	}
	return nil
}

// checkDir checks that files may be created in dir, and with replace that
// files in it may be replaced: an append-only folder accepts new names
// only. It does not create a probe file: a process killed before removing
// it would leave a file in a folder the kubelet or kube-apiserver reads.
func checkDir(dir string, replace bool) error {
	immutable, appendOnly := attrs(dir)
	switch {
	case immutable:
		return fmt.Errorf("cannot write in folder %s: it is immutable (chattr +i): run chattr -i %s, then run certctl again", dir, dir)
	case appendOnly && replace:
		return fmt.Errorf("cannot replace files in folder %s: it is append-only (chattr +a): run chattr -a %s, then run certctl again", dir, dir)
	}
	err := writable(dir)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("cannot write in folder %s: it is on a read-only file system: remount it read-write, then run certctl again", dir)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("cannot write in folder %s: permission denied: run certctl as root, or fix the permissions of the folder", dir)
	}
	return fmt.Errorf("check folder %s: %w", dir, err)
}

// explainReplace is the error of apply when target could not be put in
// place: what the checks of preflight find now (the cause arose after the
// commit), else err.
func explainReplace(target string, err error) error {
	return explain(target, "replace", err)
}

// explain is the error of apply when it could not verb target (replace,
// remove): what the checks of preflight find now, else err.
func explain(target, verb string, err error) error {
	if _, cerr := Replaceable(target); cerr != nil {
		return cerr
	}
	if cerr := checkFile(target); cerr != nil {
		return cerr
	}
	if cerr := checkDir(filepath.Dir(target), true); cerr != nil {
		return cerr
	}
	return fmt.Errorf("%s %s: %w", verb, target, err)
}
