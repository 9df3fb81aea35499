package refused

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestAddrRefusesAndStaysTaken: a connection to Addr is refused, and while
// the test runs nobody else can listen on its port.
func TestAddrRefusesAndStaysTaken(t *testing.T) {
	addr := Addr(t)
	for i := 0; i < 3; i++ {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err == nil {
			c.Close()
			t.Fatalf("dial %s: connected, want refused", addr)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial %s: %v, want connection refused", addr, err)
		}
	}
	if l, err := net.Listen("tcp", addr); err == nil {
		l.Close()
		t.Fatalf("listen on %s succeeded while Addr holds it", addr)
	}
}
