package lock

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/utils/clock"
)

// Wait says how AcquireWait waits for a lock another process holds.
type Wait struct {
	// Timeout bounds the wait; 0 tries once.
	Timeout time.Duration
	// Progress receives a line when the wait starts and one every
	// progressInterval while it lasts, naming the holder; nil: nothing (--quiet).
	Progress io.Writer
	// Clock measures the wait; clock.RealClock when nil.
	Clock clock.WithTicker
}

// report says who holds the lock at path, and for how long this process
// has waited.
func (w *Wait) report(path string, waited time.Duration) {
	h := CurrentHolder(path)
	if waited < time.Second {
		fmt.Fprintf(w.Progress, "[lock] %s holds the lock %s%s; waiting up to %v for it (--lock-timeout)\n", h.describe(w.Clock.Now()), path, h.findHint(path), w.Timeout)
		return
	}
	fmt.Fprintf(w.Progress, "[lock] Still waiting after %v for %s to release the lock %s%s (giving up after %v)\n", waited.Round(time.Second), h.describe(w.Clock.Now()), path, h.findHint(path), w.Timeout)
}

// Holder is what the lock file says of the process that holds it: three
// lines, its PID, its command line and when it took the lock (RFC 3339).
// A certctl before this format wrote its PID only.
type Holder struct {
	PID     int // 0: unknown
	Command string
	Since   time.Time
	// other: the holder is a process the kernel names (CurrentHolder)
	// that is not a certctl.
	other bool
}

func (h Holder) marshal() []byte {
	cmd := masked(strings.NewReplacer("\n", " ", "\r", " ").Replace(h.Command))
	if len(cmd) > 300 {
		cmd = cmd[:300] + "..."
	}
	return []byte(fmt.Sprintf("%d\n%s\n%s\n", h.PID, cmd, h.Since.UTC().Format(time.RFC3339)))
}

// secretFlag is the flag whose value is a secret: the certificate key
// decrypts the CAs' keys in Secret kube-system/kubeadm-certs (certs
// upload, certs download) and the new CA in a CA rotation's Secret.
const secretFlag = "--certificate-key"

// maskedValue stands for a secret flag's value, as client-go's
// "Bearer <masked>" for a token.
const maskedValue = "<masked>"

// masked is the command line command with the value of secretFlag
// replaced by maskedValue. The lock file keeps its holder's command line
// after the run (a backup of /etc/kubernetes copies it), and a command
// that waits for the lock, gives up on it or skips its recovery prints
// the holder's into the logs that cron and monitoring keep: the key must
// be in neither.
func masked(command string) string {
	args := strings.Split(command, " ")
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == secretFlag && i+1 < len(args):
			i++
			args[i] = maskedValue
		case strings.HasPrefix(args[i], secretFlag+"="):
			args[i] = secretFlag + "=" + maskedValue
		}
	}
	return strings.Join(args, " ")
}

// ReadHolder reads what the lock file at path says of its holder; the
// zero Holder when it cannot be read.
func ReadHolder(path string) Holder {
	b, err := os.ReadFile(path)
	if err != nil {
		return Holder{}
	}
	// A PID-only file (an older certctl) has no command nor time: "".
	lines := append(strings.Split(strings.TrimRight(string(b), "\n"), "\n"), "", "")
	h := Holder{Command: lines[1]}
	if h.PID, err = strconv.Atoi(strings.TrimSpace(lines[0])); err != nil {
		return Holder{}
	}
	h.Since, _ = time.Parse(time.RFC3339, lines[2])
	return h
}

// describe names the holder for a message: `another certctl (pid 4242,
// "certctl renew all", since 2026-03-01T12:00:00Z, 2m0s ago)`; now zero
// leaves out how long ago.
func (h Holder) describe(now time.Time) string {
	if h.PID <= 0 {
		return "another process"
	}
	parts := []string{fmt.Sprintf("pid %d", h.PID)}
	if h.Command != "" {
		parts = append(parts, strconv.Quote(masked(h.Command)))
	}
	if !h.Since.IsZero() {
		since := "since " + h.Since.UTC().Format(time.RFC3339)
		if !now.IsZero() {
			since += fmt.Sprintf(", %v ago", now.Sub(h.Since).Round(time.Second))
		}
		parts = append(parts, since)
	}
	who := "another certctl"
	if h.other {
		who = "another process"
	}
	return who + " (" + strings.Join(parts, ", ") + ")"
}

// String names the holder as describe does, without how long ago.
func (h Holder) String() string { return h.describe(time.Time{}) }

// findHint says how to find the holder when h does not name it.
func (h Holder) findHint(path string) string {
	if h.PID > 0 {
		return ""
	}
	return fmt.Sprintf(" (`fuser -v %s` or `lsof %s` shows which)", path, path)
}

// procLocks is the kernel's list of file locks (proc(5)).
var procLocks = "/proc/locks"

// CurrentHolder says who holds the lock at path, naming a process only
// when it is known to be the holder: the lock file's record (ReadHolder)
// is the last certctl that took the lock, which may have finished since,
// while another program holds it (flock(1), a copy of the folder...), or
// its PID may have been reused. The kernel's /proc/locks names the process
// that took an flock on the file: the record when it is that process,
// else that process, from /proc/PID/cmdline. Where the kernel does not
// say, the record is named only when its PID is a live certctl. Otherwise
// the zero Holder: another process, which describe and findHint say how
// to find.
func CurrentHolder(path string) Holder {
	rec := ReadHolder(path)
	if pids, ok := flockHolders(path); ok && len(pids) > 0 {
		if slices.Contains(pids, rec.PID) {
			return rec
		}
		for _, pid := range pids {
			if argv, ok := cmdline(pid); ok {
				cmd := strings.Join(argv, " ")
				if len(cmd) > 300 {
					cmd = cmd[:300] + "..."
				}
				return Holder{PID: pid, Command: cmd, other: !isCertctl(pid, argv)}
			}
		}
		return Holder{}
	}
	if rec.PID > 0 {
		if argv, ok := cmdline(rec.PID); ok && isCertctl(rec.PID, argv) {
			return rec
		}
	}
	return Holder{}
}

// flockHolders returns the PIDs that /proc/locks says hold an flock on the
// file at path (by device and inode); ok is false when it cannot tell.
func flockHolders(path string) (pids []int, ok bool) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return nil, false
	}
	data, err := os.ReadFile(procLocks)
	if err != nil {
		return nil, false
	}
	dev := uint64(st.Dev)
	// "1: FLOCK  ADVISORY  WRITE 4242 fe:00:9978073 0 EOF", major and
	// minor in hex; a waiter's line has "->" after the number.
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(dev), unix.Minor(dev), st.Ino)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[1] != "FLOCK" || f[5] != want {
			continue
		}
		if pid, err := strconv.Atoi(f[4]); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids, true
}

// cmdline returns the command line of the live process pid; ok is false
// for a process that is gone (or a zombie, whose command line is empty).
func cmdline(pid int) (argv []string, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return nil, false
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), true
}

// isCertctl says whether the process pid, whose command line is argv, is
// a certctl: its program, or its name (/proc/PID/comm), is this one's or
// certctl.
func isCertctl(pid int, argv []string) bool {
	self := filepath.Base(os.Args[0])
	prog := filepath.Base(argv[0])
	if prog == self || strings.HasPrefix(prog, "certctl") {
		return true
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return false
	}
	name := strings.TrimSpace(string(comm))
	selfComm, _ := os.ReadFile("/proc/self/comm")
	return name == strings.TrimSpace(string(selfComm)) || strings.HasPrefix(name, "certctl")
}
