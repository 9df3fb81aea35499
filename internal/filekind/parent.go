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
		fi, err := os.Stat(d)
		if errors.Is(err, syscall.ELOOP) {
			if _, lerr := os.Readlink(d); lerr == nil {
				return d, true
			}
		}
		if err == nil && !fi.IsDir() {
			return d, false
		}
	}
	return "", false
}
