package exitcode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestOf(t *testing.T) {
	canceled := fmt.Errorf("wait for lock x: %w", context.Canceled)
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"plain", errors.New("boom"), Failure},
		{"coded", fmt.Errorf("check: %w", &Error{Code: Problems, Err: errors.New("x")}), Problems},
		{"status only", &Error{Code: NothingToDo}, NothingToDo},
		{"cancelled", canceled, Interrupted},
		{"changed", fmt.Errorf("renew: %w", &Changed{Done: "installed", Err: canceled}), Interrupted},
		{"deadline is no signal", context.DeadlineExceeded, Failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Of(tt.err); got != tt.want {
				t.Errorf("Of(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// TestAfterSignal: what main says, and the exit status, for what a command
// returns after a signal: 130 after SIGINT (or SIGHUP), 143 after SIGTERM.
func TestAfterSignal(t *testing.T) {
	canceled := fmt.Errorf("wait for lock /x/.certctl.lock: %w", context.Canceled)
	changed := fmt.Errorf("renew: %w", &Changed{Done: "the renewed certificates were installed (apiserver)", Err: canceled})
	csrs := &Error{Code: Interrupted, Err: errors.New("interrupted waiting for CSR(s) a; nothing was changed")}
	tests := []struct {
		name string
		sig  os.Signal
		err  error
		msg  string
		code int
	}{
		{"finished", syscall.SIGINT, nil, "", OK},
		{"nothing to do", syscall.SIGINT, &Error{Code: NothingToDo}, "", NothingToDo},
		{"cancelled wait", syscall.SIGINT, canceled, "interrupted; nothing was changed", Interrupted},
		{"changed", syscall.SIGINT, changed, "interrupted; the renewed certificates were installed (apiserver)", Interrupted},
		{"finished with a status", syscall.SIGINT, &Error{Code: Problems, Err: errors.New("apiserver.key does not match")}, "apiserver.key does not match", Problems},
		{"own message", syscall.SIGINT, errors.New("interrupted waiting for CSR(s) a; nothing was changed"), "interrupted waiting for CSR(s) a; nothing was changed", Interrupted},
		{"hangup", syscall.SIGHUP, canceled, "interrupted; nothing was changed", Interrupted},
		{"SIGTERM: finished", syscall.SIGTERM, nil, "", OK},
		{"SIGTERM: nothing to do", syscall.SIGTERM, &Error{Code: NothingToDo}, "", NothingToDo},
		{"SIGTERM: cancelled wait", syscall.SIGTERM, canceled, "interrupted; nothing was changed", Terminated},
		{"SIGTERM: changed", syscall.SIGTERM, changed, "interrupted; the renewed certificates were installed (apiserver)", Terminated},
		{"SIGTERM: an interruption's own status", syscall.SIGTERM, csrs, "interrupted waiting for CSR(s) a; nothing was changed", Terminated},
		{"SIGTERM: finished with a status", syscall.SIGTERM, &Error{Code: Problems, Err: errors.New("x")}, "x", Problems},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := AfterSignal(tt.err, tt.sig)
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if msg != tt.msg || Of(err) != tt.code {
				t.Errorf("AfterSignal(%v) = %q, status %d; want %q, %d", tt.err, msg, Of(err), tt.msg, tt.code)
			}
			if tt.err != nil && err != nil && !errors.Is(err, tt.err) {
				t.Errorf("AfterSignal(%v) lost the chain", tt.err)
			}
		})
	}
}

// TestWithSignal: a summary printed before the command returns (renew -o
// json) has the status the process exits with: 143 for an interruption
// by SIGTERM, the command's own otherwise.
func TestWithSignal(t *testing.T) {
	canceled := fmt.Errorf("wait for lock /x/.certctl.lock: %w", context.Canceled)
	for _, tt := range []struct {
		name  string
		cause error // nil: not cancelled
		err   error
		want  int
	}{
		{"SIGTERM", &Signaled{syscall.SIGTERM}, canceled, Terminated},
		{"SIGTERM, changed", &Signaled{syscall.SIGTERM}, &Changed{Done: "installed", Err: canceled}, Terminated},
		{"SIGTERM, finished", &Signaled{syscall.SIGTERM}, nil, OK},
		{"SIGTERM, nothing to do", &Signaled{syscall.SIGTERM}, &Error{Code: NothingToDo}, NothingToDo},
		{"SIGTERM, failed", &Signaled{syscall.SIGTERM}, errors.New("boom"), Failure},
		{"SIGINT", &Signaled{syscall.SIGINT}, canceled, Interrupted},
		{"cancelled without a signal", context.Canceled, canceled, Interrupted},
		{"not cancelled", nil, canceled, Interrupted},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			if tt.cause != nil {
				cancel(tt.cause)
			}
			defer cancel(nil)
			err := WithSignal(ctx, tt.err)
			if got := Of(err); got != tt.want {
				t.Errorf("Of(WithSignal(%v)) = %d, want %d", tt.err, got, tt.want)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("WithSignal(%v) lost the chain", tt.err)
			}
		})
	}
	// The cause is context.Canceled to everything that asks.
	if s := (&Signaled{syscall.SIGTERM}); !errors.Is(s, context.Canceled) || s.Error() != context.Canceled.Error() {
		t.Errorf("Signaled is not context.Canceled: %v", s)
	}
}
