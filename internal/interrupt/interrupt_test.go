package interrupt

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"testing"
)

// TestBrokenOutput: only a write to certctl's own stdout or stderr whose
// reader went away ends a command quietly (exit 141, as the shell's death
// by SIGPIPE); an API server's connection reset is a real error.
func TestBrokenOutput(t *testing.T) {
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"stdout, reader gone":     {fmt.Errorf("print: %w", &fs.PathError{Op: "write", Path: os.Stdout.Name(), Err: syscall.EPIPE}), true},
		"stderr, reader gone":     {&fs.PathError{Op: "write", Path: os.Stderr.Name(), Err: syscall.EPIPE}, true},
		"stdout closed":           {&fs.PathError{Op: "write", Path: os.Stdout.Name(), Err: syscall.EBADF}, false},
		"a file's pipe":           {&fs.PathError{Op: "write", Path: "/run/fifo", Err: syscall.EPIPE}, false},
		"the API server's socket": {&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}, false},
		"no error":                {nil, false},
	} {
		if got := brokenOutput(tc.err); got != tc.want {
			t.Errorf("%s: brokenOutput(%v) = %v, want %v", name, tc.err, got, tc.want)
		}
	}
}
