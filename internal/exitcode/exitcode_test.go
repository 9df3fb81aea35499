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
