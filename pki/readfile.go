package pki

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/certctl/certctl/internal/filekind"
)

// ErrNotRegular is returned by ReadFile for a FIFO, device, socket or
// folder.
var ErrNotRegular = errors.New("not a regular file")

// ReadFile reads the regular file path, following symlinks, as os.ReadFile
// does; but it opens the file with O_NONBLOCK and checks it with fstat, so
// that a FIFO, a device or a socket in place of a certificate, key or
// kubeconfig is refused at once rather than blocking certctl forever
// (issue 13, defect 9). The error names the file and wraps ErrNotRegular.
// So does the error for a symbolic link that leads back to itself, which
// the system reports as "too many levels of symbolic links", a message
// that every caller took for a permission problem.
func ReadFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if target, ok := filekind.LinkLoop(path); err != nil && ok {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w but a symbolic link to %s, which leads back to itself (a loop of symbolic links): correct the link (ls -l %s) so that it leads to the file certctl expects", ErrNotRegular, target, ShellQuote(path))}
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w but a %s: replace it with the file certctl expects", ErrNotRegular, FileKind(fi.Mode()))}
	}
	return io.ReadAll(f)
}

// FileKind names what a file that is not regular is, for a message: FIFO,
// socket, device, folder, or special file (internal/filekind, which the
// lock file's check shares; kept here for pki's callers).
func FileKind(m fs.FileMode) string { return filekind.Of(m) }

// SameFile reports whether a and b name the same existing file or
// folder, through links.
func SameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// DanglingLink returns the target of path when path is a symbolic link
// whose target does not exist (on nodes that keep /etc/kubernetes/pki on a
// data volume, a volume not mounted), and whether it is one.
func DanglingLink(path string) (target string, ok bool) {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	target, err := os.Readlink(path)
	return target, err == nil
}
