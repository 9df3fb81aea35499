package filekind

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// Blocking returns the parent of path that no path can pass through, from
// the root down: a file where a folder belongs, or a symbolic link that
// leads back to itself (loop). "" when path itself can be looked up, or
// fails for another reason. Every open below such a parent fails with
// "not a directory" or "too many levels of symbolic links", naming the
// path tried, not the parent to correct.
func Blocking(path string) (parent string, loop bool) {
	if _, err := os.Stat(path); !errors.Is(err, syscall.ENOTDIR) && !errors.Is(err, syscall.ELOOP) {
		return "", false
	}
	var parents []string // from the root down
	for d := filepath.Dir(path); d != filepath.Dir(d); d = filepath.Dir(d) {
		parents = append([]string{d}, parents...)
	}
	for _, d := range parents {
		if _, ok := LinkLoop(d); ok {
			return d, true
		}
		if fi, err := os.Stat(d); err == nil && !fi.IsDir() {
			return d, false
		}
	}
	return "", false
}

// LinkLoop returns the target of path when path is a symbolic link that
// cannot be followed because it leads back to itself, directly or through
// other links (ELOOP), and whether it is one: every read through it fails
// with "too many levels of symbolic links", which does not name the link.
func LinkLoop(path string) (target string, ok bool) {
	if _, err := os.Stat(path); !errors.Is(err, syscall.ELOOP) {
		return "", false
	}
	target, err := os.Readlink(path)
	return target, err == nil
}
