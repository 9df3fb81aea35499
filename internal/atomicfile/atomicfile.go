// Package atomicfile replaces files so that a reader, or a process killed at
// any instant, sees either the old content or the new one, never a mix.
//
// It follows google/renameio: the data goes to a temporary file named
// ".NAME.tmp-RANDOM" in the same directory, is fsynced and closed, renamed over
// NAME, and the directory is fsynced so the rename itself survives a crash.
// The dot prefix matters for static pod manifests: the kubelet ignores
// dot-files in its manifest folder, so it never starts a half-written pod.
package atomicfile

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// TempPrefix starts the name of every temporary file this package creates.
// Recovery code uses it to find files left behind by a killed process.
const TempPrefix = "."

// tempMarker is part of every temporary file name, after the target's name.
const tempMarker = ".tmp-"

// WriteFile atomically replaces path with data. The file gets mode perm
// (not filtered by the umask, because keys must be 0600 whatever the umask
// is); an existing file is replaced, not truncated in place. The parent
// directory must exist.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, func(tmp, path string) error {
		if err := os.Rename(tmp, path); err != nil {
			var le *os.LinkError // "rename TMP PATH: REASON": said once
			if errors.As(err, &le) {
				err = le.Err
			}
			return fmt.Errorf("rename %s to %s: %w", tmp, path, err)
		}
		return nil
	})
}

// Create is WriteFile for a file that must not exist: the new file is
// linked into place, which fails, with an fs.ErrExist error, when another
// process has created path meanwhile. Two processes creating the same file
// never replace each other's.
func Create(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, func(tmp, path string) error {
		if err := os.Link(tmp, path); err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
		os.Remove(tmp) // what is left, CleanTemp removes as a killed write's
		return nil
	})
}

// write writes data to a temporary file beside path, then place puts it
// at path.
func write(path string, data []byte, perm os.FileMode, place func(tmp, path string) error) error {
	dir, base := filepath.Split(path)
	dir = cmp.Or(dir, ".")
	f, err := os.CreateTemp(dir, TempPrefix+base+tempMarker+"*")
	if err != nil {
		return writeError(path, err)
	}
	tmp := f.Name()
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return writeError(path, err)
	}
	if _, err := f.Write(data); err != nil {
		return writeError(path, err)
	}
	if err := f.Sync(); err != nil {
		return writeError(path, err)
	}
	if err := f.Close(); err != nil {
		return writeError(path, err)
	}
	if err := place(tmp, path); err != nil {
		return err
	}
	committed = true
	return SyncDir(dir)
}

// writeError is the error of a write of path that failed before path was
// touched: it names path, not the temporary file that was removed (the
// os error named it again: "write T: write T: no space left on device"),
// and on a full file system says to free space.
func writeError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("write %s: %w: free space on the file system of %s, then run certctl again (%s is as it was)", path, err, filepath.Dir(path), path)
	}
	return fmt.Errorf("write %s: %w", path, err)
}

// SyncDir fsyncs a directory so that renames and creations in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// IsTemp reports whether name (a base name) is a temporary file left by
// WriteFile, for example after the process was killed before the rename.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, TempPrefix) && strings.Contains(name, tempMarker)
}

// CleanTemp removes temporary files left by WriteFile in dir (not recursive).
// It returns the paths it removed.
func CleanTemp(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read directory %s: %w", dir, err)
	}
	var removed []string
	for _, e := range entries {
		if e.Type().IsRegular() && IsTemp(e.Name()) {
			p := filepath.Join(dir, e.Name())
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				return removed, fmt.Errorf("remove leftover temporary file %s: %w", p, err)
			}
			removed = append(removed, p)
		}
	}
	return removed, nil
}

// RemoveStale removes the temporary files a killed WriteFile of path left
// beside it (.NAME.tmp-RANDOM: a kill -9, or a write blocked past
// certctl's grace after SIGTERM), for a file written again and again in a
// folder nothing else cleans (check-expiration --textfile in
// node_exporter's folder). Only those older than path by more than age:
// the temporary file of a write of path still under way, by another
// process, is newer. Times are the file system's, both of them (no clock
// read). It returns the paths it removed; it never fails, what it cannot
// remove is left for the next call.
func RemoveStale(path string, age time.Duration) []string {
	dir, base := filepath.Split(path)
	dir = cmp.Or(dir, ".")
	st, err := os.Stat(path)
	if err != nil {
		return nil
	}
	entries, _ := os.ReadDir(dir)
	var removed []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), TempPrefix+base+tempMarker)
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(st.ModTime().Add(-age)) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if os.Remove(p) == nil {
			removed = append(removed, p)
		}
	}
	return removed
}

// RemovingPrefix starts the name a folder gets while RemoveDirs removes
// it.
const RemovingPrefix = ".removing-"

// LeftDir is a folder RemoveDirs renamed away but could not remove.
type LeftDir struct {
	Dir string // dir/name: the name it had
	As  string // dir/RemovingPrefix+name: where it is left
}

// RemoveDirs removes the folders names of dir so that a process killed
// halfway never leaves a folder with files missing under its name (a
// backup that a listing would show): each is renamed to
// RemovingPrefix+name first, then the renamed ones are removed, with those
// an interrupted or failed call left whose names after the prefix start
// with leftover. It returns the folders it removed (dir/name), and those
// it renamed away but could not remove (a file in it made immutable),
// which stay under their dot-name until a later call removes them. A
// folder that cannot be removed does not stop the removal of the others:
// the error, one line, names each that failed and what is left. what
// names them in errors ("backup": "remove old backup X: ...").
func RemoveDirs(dir string, names []string, leftover, what string) (removed []string, left []LeftDir, err error) {
	var fails []string
	var first error
	fail := func(err error, msg string) {
		if first == nil {
			first = err
		}
		fails = append(fails, msg)
	}
	var renamed []LeftDir
	for _, name := range names {
		d := LeftDir{Dir: filepath.Join(dir, name), As: filepath.Join(dir, RemovingPrefix+name)}
		if err := os.Rename(d.Dir, d.As); err != nil {
			fail(err, fmt.Sprintf("remove old %s %s: %v", what, d.Dir, err))
			break
		}
		renamed = append(renamed, d)
	}
	// This call's folders, then those an earlier one left.
	todo := slices.Clone(renamed)
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		fail(err, fmt.Sprintf("read %s folder %s: %v", what, dir, err))
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), RemovingPrefix+leftover) && !slices.ContainsFunc(renamed, func(d LeftDir) bool { return d.As == p }) {
			todo = append(todo, LeftDir{As: p})
		}
	}
	for _, d := range todo {
		err := os.RemoveAll(d.As)
		switch {
		case err == nil && d.Dir != "":
			removed = append(removed, d.Dir)
		case err == nil:
		case d.Dir != "":
			left = append(left, d)
			fail(err, fmt.Sprintf("remove old %s %s: %v: it is left as %s, which the next prune removes once it can", what, d.Dir, err, d.As))
		default:
			fail(err, fmt.Sprintf("remove old %s %s, left by an earlier prune: %v", what, d.As, err))
		}
	}
	if first == nil {
		return removed, left, nil
	}
	return removed, left, &removeError{msg: strings.Join(fails, "; "), err: first}
}

// removeError is RemoveDirs's error: one line however many folders
// failed, wrapping the first failure.
type removeError struct {
	msg string
	err error
}

func (e *removeError) Error() string { return e.msg }
func (e *removeError) Unwrap() error { return e.err }
