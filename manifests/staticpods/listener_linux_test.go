package staticpods

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/refused"
)

func TestListenerPID(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	for _, host := range []string{"", "127.0.0.1"} {
		pid, err := listenerPID(host, port)
		if err != nil || pid != os.Getpid() {
			t.Errorf("listenerPID(%q, %d) = %d, %v; want this process, %d", host, port, pid, err, os.Getpid())
		}
	}
	// A component bound on another address with the same port number (a
	// test control plane's nodes on 127.0.0.x) is not this listener.
	if pid, err := listenerPID("127.0.0.2", port); err != nil || pid != 0 {
		t.Errorf("listenerPID(127.0.0.2, %d) = %d, %v; want 0, nil: the socket is bound on 127.0.0.1", port, pid, err)
	}
	l.Close()
	// Nothing listens on a port bound without listening, which stays so
	// while the test runs: the port of the closed listener could be taken
	// at once by another listener on port 0, of any process.
	_, free, _ := net.SplitHostPort(refused.Addr(t))
	port, _ = strconv.Atoi(free)
	if pid, err := listenerPID("", port); err != nil || pid != 0 {
		t.Errorf("on a port nothing listens on: listenerPID = %d, %v; want 0, nil", pid, err)
	}

	// A socket on every address serves any host.
	any, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer any.Close()
	port = any.Addr().(*net.TCPAddr).Port
	if pid, err := listenerPID("127.0.0.2", port); err != nil || pid != os.Getpid() {
		t.Errorf("listenerPID(127.0.0.2, %d) on a wildcard socket = %d, %v; want this process", port, pid, err)
	}
}

func TestProcIP(t *testing.T) {
	// /proc/net/tcp{,6} write each 32-bit word of the address in the
	// host's byte order: 127.0.0.1 is 0100007F on amd64.
	for _, want := range []string{"127.0.0.2", "10.1.2.3", "fd00::1:2", "::ffff:127.0.0.3"} {
		ip := net.ParseIP(want)
		if ip4 := ip.To4(); ip4 != nil && !strings.Contains(want, ":") {
			ip = ip4
		}
		buf := make([]byte, len(ip))
		for i := 0; i < len(ip); i += 4 {
			binary.NativeEndian.PutUint32(buf[i:], binary.BigEndian.Uint32(ip[i:]))
		}
		if got := procIP(strings.ToUpper(hex.EncodeToString(buf))); !got.Equal(net.ParseIP(want)) {
			t.Errorf("procIP(%X) = %v, want %s", buf, got, want)
		}
	}
	for _, bad := range []string{"", "zz", "0100"} {
		if ip := procIP(bad); ip != nil {
			t.Errorf("procIP(%q) = %v, want nil", bad, ip)
		}
	}
}

// TestProcessesRunning finds a process by its command line, its binary
// compared by base name (the kubelet's container and the test harness
// start it by other paths), and no longer once it exited.
func TestProcessesRunning(t *testing.T) {
	arg := fmt.Sprintf("30.%d", os.Getpid()) // a command line no other process has
	cmd := exec.Command("sleep", arg)
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep to run: %v", err)
	}
	defer cmd.Process.Kill()
	pids, err := processesRunning([]string{"/some/other/path/sleep", arg})
	if err != nil || !slices.Equal(pids, []int{cmd.Process.Pid}) {
		t.Errorf("processesRunning = %v, %v; want [%d]", pids, err, cmd.Process.Pid)
	}
	if pids, err := processesRunning([]string{"sleep", arg, "--more"}); err != nil || len(pids) != 0 {
		t.Errorf("another command line: %v, %v; want none", pids, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if pids, err := processesRunning([]string{"sleep", arg}); err != nil || len(pids) != 0 {
		t.Errorf("after it exited: %v, %v; want none", pids, err)
	}
}
