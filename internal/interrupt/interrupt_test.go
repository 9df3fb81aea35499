package interrupt

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
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

// TestSocketSIGPIPEDoesNotEnd: once certctl asks for SIGPIPE
// (signal.Notify), the kernel's SIGPIPE for a write to any broken
// connection reaches it too, not only for its stdout or stderr: an API
// server or etcd that resets a connection while certctl writes to it. Such
// a signal must not end a command (signer run, a renewal waiting for its
// CSRs): the write's error is handled where it happens. Before, a command
// that held no lock exited 141 at once.
func TestSocketSIGPIPEDoesNotEnd(t *testing.T) {
	exited := make(chan int, 1)
	_, in := Watch(t.Context(), nil, io.Discard, func(code int) { exited <- code })
	defer in.Exit(nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The peer has closed its end: the first write is answered with a
	// reset, and a later one fails with EPIPE. A fixed sleep here raced
	// with the accepting goroutine on a loaded machine.
	<-closed
	var werr error
	for i := 0; i < 20 && !errors.Is(werr, syscall.EPIPE); i++ {
		_, werr = c.Write(make([]byte, 1024))
		time.Sleep(20 * time.Millisecond)
	}
	if !errors.Is(werr, syscall.EPIPE) {
		t.Fatalf("no broken pipe on the socket: %v", werr)
	}
	select {
	case code := <-exited:
		t.Fatalf("a broken socket's SIGPIPE ended the command with exit %d", code)
	case <-time.After(300 * time.Millisecond):
	}
}
