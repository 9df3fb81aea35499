package staticpods

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

// TestRestartWaitsByItsClock: the wait for a restarted component, its
// --restart-timeout, its progress lines and the time it reports are
// measured by the clock Restart is given (Options.Clock and Sleep), not
// the wall clock: a kubelet that restarts kube-apiserver 42s after the
// manifest changed is reported after 42s, one that never does after the
// 5 minutes of the timeout, with a line every 10s, in no wall time.
// Before, the wait read the wall clock and slept on timers: the same
// test waited 5 real minutes.
func TestRestartWaitsByItsClock(t *testing.T) {
	for _, tc := range []struct {
		name      string
		restartAt time.Duration // 0: never
		waited    time.Duration
		lines     int
		said      string
	}{
		{"restarted after 42s", 42 * time.Second, 42 * time.Second, 4, "[restart] kube-apiserver: restarted (pid 200, was 100), serving the new certificate: secure port "},
		{"never restarted", 0, DefaultTimeout, 29, "kube-apiserver still serves the old certificate on its secure port "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			oldCert, newCert := newCert(t, 1001), newCert(t, 2002)
			n := newNode(t, oldCert)
			n.writeCert(t, "apiserver.crt", newCert)
			set, err := Load(n.manifestDir)
			if err != nil {
				t.Fatal(err)
			}
			affected := set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt")})
			clk := treetest.NewStepClock(time.Date(2026, 12, 4, 11, 22, 0, 0, time.UTC))
			start := clk.Now()
			_, port, _ := net.SplitHostPort(n.srv.addr)
			// The kubelet restarts it at restartAt of the given clock.
			pid := func(string, int) (int, error) {
				if tc.restartAt > 0 && !clk.Now().Before(start.Add(tc.restartAt)) {
					n.srv.cert.Store(&newCert)
					return 200, nil
				}
				return 100, nil
			}
			var out bytes.Buffer
			results, err := Restart(ctx, affected, Options{Timeout: DefaultTimeout, Poll: time.Second, ProgressEvery: 10 * time.Second, Now: fixedNow, Out: &out, ListenerPID: pid,
				Clock: clk.Now, Sleep: clk.Sleep})
			if len(results) != 1 {
				t.Fatalf("Restart: %v, %+v", err, results)
			}
			r := results[0]
			if (err == nil) != (tc.restartAt > 0) || !strings.Contains(out.String()+r.Message, tc.said) {
				t.Fatalf("Restart: %v; want %q in\n%s%s", err, tc.said, out.String(), r.Message)
			}
			if r.Waited != tc.waited || r.WaitedSeconds != tc.waited.Seconds() {
				t.Errorf("waited %s (%vs), want %s by the given clock\n%s", r.Waited, r.WaitedSeconds, tc.waited, out.String())
			}
			if got := strings.Count(out.String(), "[restart] kube-apiserver: waiting for the new process: the old one (pid 100) still listens on port "+port); got != tc.lines {
				t.Errorf("%d progress lines, want %d (one every 10s of the given clock):\n%s", got, tc.lines, out.String())
			}
			if want := "(10s of " + DefaultTimeout.String() + ")"; !strings.Contains(out.String(), want) {
				t.Errorf("the first progress line does not say %s:\n%s", want, out.String())
			}
		})
	}
}
