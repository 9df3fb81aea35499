package staticpods

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// listenerPID returns the process listening on TCP port at host (an IP;
// "" for any address) in this network namespace (the host's: kubeadm's control-plane pods use hostNetwork), from
// /proc/net/tcp{,6} and the processes' socket links in /proc/PID/fd, as
// `ss -ltnp` finds it. It returns 0 and no error when nothing listens, and
// an error when it cannot tell (no /proc, or a socket whose owner it may
// not see: certctl is not root).
func listenerPID(host string, port int) (int, error) {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if err := listeningInodes(f, net.ParseIP(host), port, inodes); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
	}
	if len(inodes) == 0 {
		return 0, nil
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("find the process on port %d: %w", port, err)
	}
	found := 0
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fds, err := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		if err != nil {
			continue // gone, or not ours to see
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name()))
			if err == nil && inodes[link] && (found == 0 || pid < found) {
				found = pid
			}
		}
	}
	if found == 0 {
		return 0, fmt.Errorf("find the process on port %d: a socket listens but its process cannot be seen (run certctl as root)", port)
	}
	return found, nil
}

// processesRunning returns the processes whose command line is argv, in
// the order of their pids: argv[0] compared by its base name (a container's
// runtime and the test harness may start the binary by another path), the
// other words exactly. /proc/PID/cmdline is readable without root, so it
// finds a component's new process while it starts, before it listens, and
// tells one that exited as it started from one that is still starting
// (restartOne's checks).
func processesRunning(argv []string) ([]int, error) {
	if len(argv) == 0 {
		return nil, nil
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list the processes: %w", err)
	}
	var pids []int
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil || len(data) == 0 {
			continue // gone, or a kernel thread
		}
		words := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
		if filepath.Base(words[0]) == filepath.Base(argv[0]) && slices.Equal(words[1:], argv[1:]) {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// listeningInodes adds the LISTEN sockets on port in a /proc/net/tcp-format
// file, as /proc/PID/fd links name them ("socket:[INODE]"): those bound on
// ip or on every address, or all of them when ip is nil.
func listeningInodes(path string, ip net.IP, port int, into map[string]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X", port)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(fields) < 10 || fields[3] != "0A" || !strings.HasSuffix(fields[1], want) {
			continue
		}
		if ip != nil {
			local := procIP(strings.TrimSuffix(fields[1], want))
			if local == nil || !(local.Equal(ip) || local.IsUnspecified()) {
				continue
			}
		}
		into["socket:["+fields[9]+"]"] = true
	}
	return sc.Err()
}

// procIP decodes an address of /proc/net/tcp{,6}: the hex of 32-bit words,
// each in the host's byte order. nil when it is malformed.
func procIP(h string) net.IP {
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != net.IPv4len && len(b) != net.IPv6len) {
		return nil
	}
	ip := make(net.IP, len(b))
	for i := 0; i < len(b); i += 4 {
		binary.BigEndian.PutUint32(ip[i:], binary.NativeEndian.Uint32(b[i:]))
	}
	return ip
}
