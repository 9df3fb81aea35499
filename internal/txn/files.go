package txn

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/certctl/certctl/internal/atomicfile"
)

// apply renames the staged files of m over their targets, and removes the
// targets it removes. A staged file that no longer exists was renamed by
// an earlier, interrupted apply; a removed target that no longer exists
// was removed by it.
// With verify, each staged file's content is checked against the manifest
// first, so that RecoverIn never installs a file damaged by a power loss.
func apply(dir string, m manifest, verify bool) error {
	var toSync []string
	syncLater := func(d string) {
		if !slices.Contains(toSync, d) {
			toSync = append(toSync, d)
		}
	}
	for _, e := range m.Entries {
		staged := filepath.Join(dir, e.Staged)
		parent := filepath.Dir(e.Target)
		// Synced even when its files were renamed by an earlier run,
		// which may have died before it synced.
		syncLater(parent)
		if e.Remove {
			if err := remove(e); err != nil {
				return err
			}
			continue
		}
		if _, err := os.Lstat(staged); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("check staged file %s: %w", staged, err)
		}
		if verify {
			if err := checkSum(staged, e.SHA256); err != nil {
				return err
			}
		}
		created, err := mkdirAll(parent)
		if err != nil {
			return err
		}
		for _, d := range created {
			syncLater(filepath.Dir(d)) // the new folder's entry in its parent
		}
		if e.Beside != "" {
			done, err := placeBeside(staged, e, verify)
			if err != nil {
				return err
			}
			if done {
				continue
			}
		}
		if err := os.Rename(staged, e.Target); err != nil {
			if !errors.Is(err, syscall.EXDEV) {
				return explainReplace(e.Target, err)
			}
			// The target is on another file system, and its copy beside
			// it (stageBeside) is gone, or the transaction was written by
			// a certctl that made none: copy it atomically instead. The
			// staged file is removed only after the copy is in place, so
			// an interrupted copy is redone.
			if err := copyOver(staged, e); err != nil {
				return err
			}
		}
	}
	var s syncer
	for _, d := range toSync {
		if _, err := os.Stat(d); err == nil {
			s.start(d)
		}
	}
	return s.wait()
}

// remove removes e's target (a removal, see File.Remove) when it is a
// regular file that holds the content e names, if any: a file put there
// since the transaction was staged, of other content or kind, is another
// process's, and stays. A target that is gone was removed already.
func remove(e entry) error {
	st, err := os.Lstat(e.Target)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return nil
	case err != nil:
		return fmt.Errorf("check %s: %w", e.Target, err)
	case !st.Mode().IsRegular():
		return nil
	}
	if e.SHA256 != "" {
		data, err := os.ReadFile(e.Target)
		if err != nil {
			return fmt.Errorf("read %s before removing it: %w", e.Target, err)
		}
		if digest(data) != e.SHA256 {
			return nil
		}
	}
	if err := os.Remove(e.Target); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return explain(e.Target, "remove", err)
	}
	return nil
}

// mkdirAll creates dir and its missing parents with TargetDirMode, and
// returns the folders it created, outermost first.
func mkdirAll(dir string) ([]string, error) {
	missing, _, err := missingDirs(dir)
	if err != nil || len(missing) == 0 {
		return nil, err
	}
	if err := os.MkdirAll(dir, TargetDirMode); err != nil {
		if cerr := checkDir(filepath.Dir(missing[0]), false); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("create folder %s: %w", dir, err)
	}
	return missing, nil
}

func copyOver(staged string, e entry) error {
	data, err := readStaged(staged)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(e.Target, data, e.Mode); err != nil {
		return explainReplace(e.Target, err)
	}
	if os.Geteuid() == 0 && (e.UID >= 0 || e.GID >= 0) {
		if err := os.Chown(e.Target, e.UID, e.GID); err != nil {
			return fmt.Errorf("set owner of %s: %w", e.Target, err)
		}
	}
	if err := os.Remove(staged); err != nil {
		return fmt.Errorf("remove staged file %s: %w", staged, err)
	}
	return nil
}

// readStaged reads a staged file, certctl's own in its transaction folder.
func readStaged(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read staged file %s: %w", path, err)
	}
	return data, nil
}

// holds reports whether path is a regular file (not a FIFO, whose read
// would block) of the content whose SHA-256 is sum.
func holds(path, sum string) bool {
	st, err := os.Lstat(path)
	return err == nil && st.Mode().IsRegular() && checkSum(path, sum) == nil
}

func checkSum(path, want string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read staged file %s: %w", path, err)
	}
	if digest(data) != want {
		return fmt.Errorf("staged file %s does not match its manifest (damaged, e.g. by a power loss): no file was replaced from it; restore the targets from the latest backup", path)
	}
	return nil
}

// writeStaged creates path with data and the mode and owner of e. It does
// not fsync: Txn.Add starts that in the background.
func writeStaged(path string, data []byte, e entry) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = f.Write(data)
		if err == nil && os.Geteuid() == 0 && (e.UID >= 0 || e.GID >= 0) {
			err = f.Chown(e.UID, e.GID)
		}
		if err == nil {
			err = f.Chmod(e.Mode) // not the open's mode, which the umask could loosen
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) && (errno == syscall.ENOSPC || errno == syscall.EDQUOT) {
		// The staging file's name means nothing to the user (issue 14,
		// item 9): say whose file it was, that no target was touched, and
		// what to do.
		what := "the transaction's manifest"
		if e.Target != "" {
			what = "the new " + e.Target
		}
		where := filepath.Dir(path)
		if real, err := filepath.EvalSymlinks(where); err == nil && real != where {
			where += " (" + real + ")" // a linked folder: the file system to free is real's
		}
		return fmt.Errorf("cannot write %s in %s: %w: nothing was changed, every file is as it was; free space on that file system and run certctl again", what, where, errno)
	}
	if err != nil {
		return fmt.Errorf("stage %s: %w", path, err)
	}
	return nil
}

// syncer fsyncs files and folders in the background, a few at once. One
// fsync after another each waits for its own journal commit (1-3 ms on a
// virtual disk, more on a busy one, ~40 of them per renewal); issued
// together, the file system commits them in a few groups, and the files
// staged early are synced while the run still makes keys.
type syncer struct {
	once sync.Once
	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

// start fsyncs path in the background.
func (s *syncer) start(path string) {
	s.once.Do(func() { s.sem = make(chan struct{}, 16) })
	s.wg.Add(1)
	go func() {
		defer utilruntime.HandleCrash()
		defer s.wg.Done()
		s.sem <- struct{}{}
		defer func() { <-s.sem }()
		f, err := os.Open(path)
		if err == nil {
			err = f.Sync()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			s.mu.Lock()
			s.errs = append(s.errs, fmt.Errorf("sync %s: %w", path, err))
			s.mu.Unlock()
		}
	}()
}

// wait returns when every fsync started has ended, with their errors.
func (s *syncer) wait() error {
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	err := errors.Join(s.errs...)
	s.errs = nil
	return err
}
