// Package lock serializes certctl processes that write the same PKI: an
// exclusive flock(2) on a lock file beside the cert dir. The kernel drops the
// lock when its holder dies, however it dies, so a killed certctl never
// leaves a stale lock behind.
package lock

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/utils/clock"

	"github.com/certctl/certctl/internal/filekind"
)

// HeldError is returned when the lock is still held when the wait ends.
type HeldError struct {
	Path string
	// Holder is who holds the lock (CurrentHolder): PID is 0 when it is
	// not known, never the PID of a process that is not the holder.
	Holder
	Waited time.Duration
	// Timeout is the wait's bound: 0 (--lock-timeout 0) tried once.
	Timeout time.Duration
}

func (e *HeldError) Error() string {
	if e.Timeout == 0 {
		return fmt.Sprintf("%s holds the lock %s%s: not waited for, as --lock-timeout is 0; try again when it has finished, or pass --lock-timeout 5m to wait for it", e.Holder.describe(time.Time{}), e.Path, e.Holder.findHint(e.Path))
	}
	return fmt.Sprintf("%s holds the lock %s%s: waited %s; try again when it has finished, or raise --lock-timeout", e.Holder.describe(time.Time{}), e.Path, e.Holder.findHint(e.Path), e.Waited)
}

// Lock is a held lock.
type Lock struct {
	f *os.File
}

// pollInterval is how often a waiting process retries: flock has no timeout.
const pollInterval = 50 * time.Millisecond

// progressInterval is how often a process waiting for the lock says so.
const progressInterval = 10 * time.Second

// AcquireWait takes the exclusive lock on path (created 0600 if missing),
// waiting as w says. On success it writes who holds it (Holder: its PID,
// command line and the time) into the file, so that a waiting process can
// name the holder.
func AcquireWait(ctx context.Context, path string, w Wait) (*Lock, error) {
	if w.Clock == nil {
		w.Clock = clock.RealClock{}
	}
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	start := w.Clock.Now()
	var tick <-chan time.Time
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil && !removed(f, path) {
			break
		}
		if err == nil {
			// Its holder removed it (a command that made the folder, and
			// failed, removes what it made): lock the file now at path,
			// which a third command may have created.
			f.Close()
			if f, err = open(path); err != nil {
				return nil, err
			}
			continue
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		waited := w.Clock.Since(start)
		if waited >= w.Timeout {
			f.Close()
			return nil, &HeldError{Path: path, Holder: CurrentHolder(path), Waited: waited.Round(time.Millisecond), Timeout: w.Timeout}
		}
		if tick == nil && w.Progress != nil {
			// Said at once, then every progressInterval: a wait of up to
			// --lock-timeout must not look like a hang.
			w.report(path, waited)
			t := w.Clock.NewTicker(progressInterval)
			defer t.Stop()
			tick = t.C()
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for lock %s: %w", path, ctx.Err())
		case <-tick:
			w.report(path, w.Clock.Since(start))
		case <-w.Clock.After(min(pollInterval, w.Timeout-waited)):
		}
	}
	taken.Store(&path)
	if err := f.Truncate(0); err == nil {
		f.WriteAt(Holder{PID: os.Getpid(), Command: strings.Join(os.Args, " "), Since: w.Clock.Now()}.marshal(), 0)
		f.Sync()
	}
	return &Lock{f: f}, nil
}

// removed reports whether the locked file f is no longer the file at
// path.
func removed(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Stat(path)
	return err != nil || !os.SameFile(fi, pi)
}

// open opens the lock file at path, creating it 0600 if missing. It
// refuses a lock file that is not a regular file, without writing
// anything: taking the lock truncates the file and writes the holder's
// record into it, which through a symbolic link would overwrite a file in
// any folder (or create one, for a dangling link), and a FIFO or a device
// is no place for it. O_NONBLOCK, so that a FIFO is refused at once.
func open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	var pe *fs.PathError
	switch {
	case errors.Is(err, syscall.ELOOP):
		dest, _ := os.Readlink(path)
		return nil, fmt.Errorf("lock file %s is a symbolic link to %s: certctl writes its lock file and would write through the link; remove it (rm %s), then run certctl again", path, cmp.Or(dest, "a file certctl cannot read the name of"), path)
	case errors.Is(err, syscall.EISDIR):
		return nil, notRegular(path, "a folder")
	case errors.As(err, &pe) && (errors.Is(pe.Err, syscall.ENOSPC) || errors.Is(pe.Err, syscall.EDQUOT)):
		// No inode left for a new lock file: the command has written
		// nothing yet.
		return nil, fmt.Errorf("create lock file %s: %w: free space on the file system of %s (df -i shows its inodes), then run certctl again; nothing was changed", path, pe.Err, filepath.Dir(path))
	case errors.As(err, &pe):
		// Not "open lock file X: open X: ...".
		return nil, fmt.Errorf("open lock file %s: %w", path, pe.Err)
	case err != nil:
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("check lock file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, notRegular(path, "a "+filekind.Of(fi.Mode()))
	}
	if fi.Mode().Perm()&0o077 != 0 {
		// flock(2) needs only an open file, for reading too: any user who
		// may open the lock file may take it and keep it, and every
		// certctl then waits for them until it gives up, renewals
		// included. Made 0600 again (flock(1) on a missing file makes it
		// 0644); only its owner or root may, else it stays as it is.
		f.Chmod(0o600)
	}
	return f, nil
}

func notRegular(path, kind string) error {
	return fmt.Errorf("lock file %s is %s, not a regular file: remove it (certctl creates it again), then run certctl again", path, kind)
}

// taken is the last lock this process took: certctl writes the folders a
// lock guards only while it holds it.
var taken atomic.Pointer[string]

// Taken returns the path of the last lock this process took, "" when it
// took none: a process that never took one has changed nothing in the
// folders certctl manages (what certctl says when a signal ends it at once).
func Taken() string {
	if p := taken.Load(); p != nil {
		return *p
	}
	return ""
}

// Release drops the lock. The file stays: removing it would let two
// processes lock two different files of the same name.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
