package exitcode

import (
	"context"
	"errors"
	"fmt"
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
// returns after a signal.
func TestAfterSignal(t *testing.T) {
	canceled := fmt.Errorf("wait for lock /x/.certctl.lock: %w", context.Canceled)
	tests := []struct {
		name string
		err  error
		msg  string
		code int
	}{
		{"finished", nil, "", OK},
		{"nothing to do", &Error{Code: NothingToDo}, "", NothingToDo},
		{"cancelled wait", canceled, "interrupted; nothing was changed", Interrupted},
		{"changed", fmt.Errorf("renew: %w", &Changed{Done: "the renewed certificates were installed (apiserver)", Err: canceled}),
			"interrupted; the renewed certificates were installed (apiserver)", Interrupted},
		{"finished with a status", &Error{Code: Problems, Err: errors.New("apiserver.key does not match")}, "apiserver.key does not match", Problems},
		{"own message", errors.New("interrupted waiting for CSR(s) a; nothing was changed"), "interrupted waiting for CSR(s) a; nothing was changed", Interrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := AfterSignal(tt.err)
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
