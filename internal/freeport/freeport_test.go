package freeport

import (
	"net"
	"slices"
	"strconv"
	"testing"
)

// TestPortsDistinct: no port is handed out twice in one process, within a
// call or across calls (the nodes of a test cluster each call it, and
// listen on different addresses).
func TestPortsDistinct(t *testing.T) {
	var ports []int
	for range 3 {
		p, err := Ports(8)
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, p...)
	}
	ports = append(ports, Port(t))
	slices.Sort(ports)
	if len(slices.Compact(ports)) != 25 {
		t.Errorf("Ports returned duplicates: %v", ports)
	}
}

// TestPortsBelowEphemeralRange: a port of the kernel's ephemeral range,
// which a listener on port 0 gets, may be taken as an outgoing
// connection's source port or by another listener on port 0 before the
// program the test starts binds it ("address already in use" under load);
// Ports picks below that range, and the port is free.
func TestPortsBelowEphemeralRange(t *testing.T) {
	lo, hi := Range()
	if lo == hi {
		t.Skip("the ephemeral range leaves too few ports below it")
	}
	ports, err := Ports(20)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		if p < lo || p >= hi {
			t.Errorf("port %d is outside [%d, %d), below the ephemeral range", p, lo, hi)
		}
	}
	addr := Addr(t)
	host, port, _ := net.SplitHostPort(addr)
	if p, _ := strconv.Atoi(port); host != "127.0.0.1" || p < lo || p >= hi {
		t.Errorf("Addr = %s, want 127.0.0.1 and a port in [%d, %d)", addr, lo, hi)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s from Addr: %v", addr, err)
	}
	l.Close()
}
