package lock

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

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
	h := ReadHolder(path)
	if waited < time.Second {
		fmt.Fprintf(w.Progress, "[lock] %s holds the lock %s; waiting up to %v for it (--lock-timeout)\n", h.describe(w.Clock.Now()), path, w.Timeout)
		return
	}
	fmt.Fprintf(w.Progress, "[lock] Still waiting after %v for %s to release the lock %s (giving up after %v)\n", waited.Round(time.Second), h.describe(w.Clock.Now()), path, w.Timeout)
}

// Holder is what the lock file says of the process that holds it: three
// lines, its PID, its command line and when it took the lock (RFC 3339).
// A certctl before this format wrote its PID only.
type Holder struct {
	PID     int // 0: unknown
	Command string
	Since   time.Time
}

func (h Holder) marshal() []byte {
	cmd := strings.NewReplacer("\n", " ", "\r", " ").Replace(h.Command)
	if len(cmd) > 300 {
		cmd = cmd[:300] + "..."
	}
	return []byte(fmt.Sprintf("%d\n%s\n%s\n", h.PID, cmd, h.Since.UTC().Format(time.RFC3339)))
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
		return "another certctl"
	}
	parts := []string{fmt.Sprintf("pid %d", h.PID)}
	if h.Command != "" {
		parts = append(parts, strconv.Quote(h.Command))
	}
	if !h.Since.IsZero() {
		since := "since " + h.Since.UTC().Format(time.RFC3339)
		if !now.IsZero() {
			since += fmt.Sprintf(", %v ago", now.Sub(h.Since).Round(time.Second))
		}
		parts = append(parts, since)
	}
	return "another certctl (" + strings.Join(parts, ", ") + ")"
}
