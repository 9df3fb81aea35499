package interrupt

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
)

// TestStatusBySignal: a command stopped by SIGTERM (systemd stopping the
// unit) exits 143, which the unit install-timer writes counts as a
// success; by SIGINT or SIGHUP (a person) 130. Before, every signal gave
// 130, and `systemctl stop certctl-renew.service` left the unit failed.
func TestStatusBySignal(t *testing.T) {
	for _, tc := range []struct {
		sig  os.Signal
		want int
	}{
		{syscall.SIGTERM, exitcode.Terminated},
		{syscall.SIGINT, exitcode.Interrupted},
		{syscall.SIGHUP, exitcode.Interrupted},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			caught := make(chan os.Signal, 1)
			caught <- tc.sig
			var errOut strings.Builder
			ctx, in := Watch(t.Context(), caught, &errOut, func(int) { t.Error("exit called") })
			// The summary's status (renew -o json), from the context's cause.
			err := fmt.Errorf("wait for the lock: %w", ctx.Err())
			if got := exitcode.Of(exitcode.WithSignal(ctx, err)); got != tc.want {
				t.Errorf("WithSignal: status %d, want %d", got, tc.want)
			}
			if got := in.Exit(err); got != tc.want {
				t.Errorf("Exit: status %d, want %d", got, tc.want)
			}
			if !strings.HasPrefix(errOut.String(), "error: interrupted; nothing was changed") {
				t.Errorf("stderr %q, want the interruption", errOut.String())
			}
		})
	}
}

// TestWatchdogStatusBySignal: a command that does not return within
// Grace of SIGTERM is ended with 143 too.
func TestWatchdogStatusBySignal(t *testing.T) {
	exited := make(chan int, 1)
	ctx, in := Watch(context.Background(), nil, io.Discard, func(code int) { exited <- code })
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGTERM did not cancel the context")
	}
	select {
	case code := <-exited:
		if code != exitcode.Terminated {
			t.Errorf("watchdog exit %d, want %d", code, exitcode.Terminated)
		}
	case <-time.After(Grace + 5*time.Second):
		t.Fatal("the watchdog did not end the command")
	}
	if got := in.Exit(nil); got != exitcode.Terminated {
		t.Errorf("Exit after the watchdog: %d, want %d", got, exitcode.Terminated)
	}
}
