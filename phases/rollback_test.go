package phases

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/treetest"
)

// TestInterruptedRunRollsBack: a signal (the context) during the real pass
// removes the files the pass had written and the folders it had made, and
// says so; an interruption before any write is plain "nothing changed"
// (the context's error); another error leaves the written files, as
// before.
func TestInterruptedRunRollsBack(t *testing.T) {
	tests := []struct {
		name        string
		cancelFirst bool  // cancel before the real pass writes anything
		stopErr     error // what the last phase returns; nil: ctx.Err()
		wantChanged bool
		wantSame    bool
	}{
		{name: "after the CA was written", wantChanged: true, wantSame: true},
		{name: "before any write", cancelFirst: true, wantSame: true},
		{name: "another error", stopErr: errors.New("disk on fire")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			before := treetest.Snapshot(t, e.dir)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := Phase{Name: "certs/stop", Run: func(ctx context.Context, env *Env) error {
				if env.checking {
					return nil
				}
				if tt.stopErr != nil {
					return tt.stopErr
				}
				cancel()
				return ctx.Err()
			}}
			ps := e.certPhases(t, "ca")
			if tt.cancelFirst {
				ps = append([]Phase{stop}, ps...)
			} else {
				ps = append(ps, stop)
			}
			err := Run(ctx, e.Env, ps)
			var changed *exitcode.Changed
			if got := errors.As(err, &changed); got != tt.wantChanged {
				t.Fatalf("err = %v (%T), exitcode.Changed %v, want %v", err, err, got, tt.wantChanged)
			}
			if tt.wantChanged && (!strings.Contains(changed.Done, "removed the 2 file(s)") || !strings.Contains(changed.Done, "ca.key") || !errors.Is(err, context.Canceled)) {
				t.Errorf("Done = %q, err %v", changed.Done, err)
			}
			if tt.cancelFirst && !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want the context's error", err)
			}
			after := treetest.Snapshot(t, e.dir)
			if tt.wantSame {
				treetest.AssertSame(t, before, after)
			} else if len(after) == len(before) {
				t.Error("another error removed what the run had written")
			}
		})
	}
}
