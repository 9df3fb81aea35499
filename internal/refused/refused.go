// Package refused gives tests a local address whose connections are refused
// for as long as the test runs.
//
// Listening on port 0 and closing the listener gives an address nothing
// listens on only for a moment: the kernel may hand the port to the next
// listener, of this test or of another package's running beside it, and a
// test that wanted "connection refused" then talks to a stranger. Addr
// instead binds a socket without listening on it and keeps it until the
// test ends, so the port stays taken and every connection to it is refused.
package refused

import (
	"net"
	"strconv"
	"syscall"
	"testing"
)

// Addr returns "127.0.0.1:PORT" where PORT is bound, not listened on, until
// t ends: a connection to it is refused at once.
func Addr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socket for a refused port: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("bind a refused port on 127.0.0.1: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("name of the refused port: %v", err)
	}
	in, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		t.Fatalf("refused port bound as %T, want IPv4", sa)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(in.Port))
}
