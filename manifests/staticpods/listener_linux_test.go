package staticpods

import (
	"net"
	"os"
	"testing"
)

func TestListenerPID(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	pid, err := listenerPID(port)
	if err != nil || pid != os.Getpid() {
		t.Errorf("listenerPID(%d) = %d, %v; want this process, %d", port, pid, err, os.Getpid())
	}
	l.Close()
	if pid, err := listenerPID(port); err != nil || pid != 0 {
		t.Errorf("after close: listenerPID = %d, %v; want 0, nil", pid, err)
	}
}
