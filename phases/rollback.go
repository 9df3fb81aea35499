package phases

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/certctl/certctl/internal/exitcode"
)

// missingFolders lists the folders of paths that do not exist yet, deepest
// first: the real pass creates them, and rollBack removes them again.
func missingFolders(paths []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		for d := filepath.Dir(p); !seen[d]; d = filepath.Dir(d) {
			seen[d] = true
			if _, err := os.Lstat(d); err == nil || d == filepath.Dir(d) {
				break
			}
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// rollBack undoes a real pass that a signal stopped (err, which wraps the
// context's error): it removes the planned files that the pass had
// written, which did not exist before it (the check pass plans only files
// to create, and certctl's lock keeps other certctl commands out), then
// the folders it had made. So an interrupted init-phase leaves the folders
// as they were; main says "interrupted; nothing was changed". What it
// cannot remove, it names.
func rollBack(paths, folders []string, err error) error {
	var removed, left []string
	for _, p := range paths {
		switch rerr := os.Remove(p); {
		case rerr == nil:
			removed = append(removed, p)
		case !errors.Is(rerr, fs.ErrNotExist):
			left = append(left, p)
		}
	}
	for _, d := range folders {
		if rerr := os.Remove(d); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			left = append(left, d+"/")
		}
	}
	switch {
	case len(left) > 0:
		return &exitcode.Changed{Done: fmt.Sprintf("this run had written files, and %s could not be removed: remove them, or run the same command again to finish", strings.Join(left, ", ")), Err: err}
	case len(removed) > 0:
		return &exitcode.Changed{Done: fmt.Sprintf("nothing was changed: removed the %d file(s) this run had written (%s)", len(removed), strings.Join(removed, ", ")), Err: err}
	}
	return err
}
