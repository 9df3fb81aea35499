package cmd

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/certctl/certctl/internal/exitcode"
)

// TestInterrupted: what main says, and the exit status, for what a command
// returns after a signal.
func TestInterrupted(t *testing.T) {
	canceled := fmt.Errorf("wait for lock /x/.certctl.lock: %w", context.Canceled)
	tests := []struct {
		name string
		err  error
		msg  string
		code int
	}{
		{"finished", nil, "", exitcode.OK},
		{"nothing to do", &exitcode.Error{Code: exitcode.NothingToDo}, "", exitcode.NothingToDo},
		{"cancelled wait", canceled, "interrupted; nothing was changed", exitcode.Interrupted},
		{"changed", fmt.Errorf("renew: %w", &exitcode.Changed{Done: "the renewed certificates were installed (apiserver)", Err: canceled}),
			"interrupted; the renewed certificates were installed (apiserver)", exitcode.Interrupted},
		{"finished with a status", &exitcode.Error{Code: exitcode.Problems, Err: errors.New("apiserver.key does not match")}, "apiserver.key does not match", exitcode.Problems},
		{"own message", errors.New("interrupted waiting for CSR(s) a; nothing was changed"), "interrupted waiting for CSR(s) a; nothing was changed", exitcode.Interrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Interrupted(tt.err)
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if msg != tt.msg || exitcode.Of(err) != tt.code {
				t.Errorf("Interrupted(%v) = %q, status %d; want %q, %d", tt.err, msg, exitcode.Of(err), tt.msg, tt.code)
			}
			if tt.err != nil && err != nil && !errors.Is(err, tt.err) {
				t.Errorf("Interrupted(%v) lost the chain", tt.err)
			}
		})
	}
}
