// Package freeport picks TCP ports for the programs a test starts that
// take their port by number (a component's --secure-port, a static pod
// manifest's, --listen-address), where the test cannot hand them an open
// listener or port 0.
//
// A port the kernel gives a listener on port 0 is free only for a moment:
// it is in the ephemeral range (ip_local_port_range), where the kernel
// also picks the next listener's port on port 0, of any process, and the
// source port of every outgoing connection. Under load (the packages'
// tests, test/cli and test/e2e run at once) one was taken in the seconds
// before the program bound it, which then failed with "address already
// in use" (kube-controller-manager in test/e2e). Ports picks below that
// range, at random, where only a program that names the port can take it.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// handedOut holds every port Ports returned in this process.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// Ports returns n distinct TCP ports free on every address. It holds all n
// listeners before closing any, so that one port is not handed out twice.
// A port is free on every address and never handed out before in this
// process: the nodes of a test cluster listen on 127.0.0.1..N, and a port
// number used on two of them would make certctl's restart find the other
// node's process on that port (it looks up the listener by port, as on a
// node whose components share one address).
//
// The ports are below the kernel's ephemeral range, picked at random
// (Range); when that range leaves too few ports below it, Ports asks the
// kernel (port 0).
func Ports(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	handedOut.Lock()
	defer handedOut.Unlock()
	lo, hi := Range()
	for tries := 0; len(ports) < n; tries++ {
		addr := ":0"
		if hi > lo && tries < 100*n {
			addr = fmt.Sprintf(":%d", lo+rand.IntN(hi-lo))
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			if addr != ":0" {
				continue // taken: try another
			}
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		port := l.Addr().(*net.TCPAddr).Port
		if handedOut.ports[port] {
			continue
		}
		handedOut.ports[port] = true
		ports = append(ports, port)
	}
	return ports, nil
}

// Port returns one port as Ports does, failing t when there is none.
func Port(t testing.TB) int {
	t.Helper()
	ports, err := Ports(1)
	if err != nil {
		t.Fatal(err)
	}
	return ports[0]
}

// Addr returns "127.0.0.1:PORT" for a port of Port.
func Addr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(Port(t)))
}

// Range is where Ports picks ports: from 10000 up to the start of the
// ephemeral range (/proc/sys/net/ipv4/ip_local_port_range, 32768 by
// default); empty (lo == hi) when that range leaves less than 1000 ports
// below it.
func Range() (lo, hi int) {
	lo, hi = 10000, 32768
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(data)); len(f) == 2 {
			if start, err := strconv.Atoi(f[0]); err == nil {
				hi = start
			}
		}
	}
	if hi-lo < 1000 {
		return lo, lo
	}
	return lo, hi
}
