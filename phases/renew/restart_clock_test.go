package renew

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestRestartWaitsByTheRunsClock: the wait for a restarted component
// (--restart-timeout, its progress lines, the time it reports) is measured
// by the run's clock, Options.Now and Sleep, as the waits for the Leases
// are: kube-apiserver, which never comes back here (nothing listens on its
// port), is given up after the 5 minutes of its timeout by that clock, in
// no wall time. Before, restartOwed gave staticpods.Restart neither, and
// the wait read the wall clock: the same run waited 5 real minutes.
func TestRestartWaitsByTheRunsClock(t *testing.T) {
	for _, tc := range owedRuns {
		t.Run(tc.name, func(t *testing.T) {
			_, o := owedNode(t)
			run := tc.start(t, o)
			clk := treetest.NewStepClock(pkitest.Made.Add(time.Hour))
			var out bytes.Buffer
			o.Now, o.Sleep, o.Out, o.Restart.Timeout = clk.Now, clk.Sleep, &out, 5*time.Minute
			// Well below the 5 minutes a wait by the wall clock would
			// take, well above the ~600 polls' real time under load.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			err := run(ctx, o)
			if err == nil || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
				t.Fatalf("run: %v; want the restart given up after 5m0s of the run's clock, not the test's wall-clock deadline\n%s", err, out.String())
			}
			for _, want := range []string{"kube-apiserver is not reachable on its secure port 127.0.0.1:1 after 5m0s", "(10s of 5m0s)", "(4m50s of 5m0s)"} {
				if !strings.Contains(err.Error()+out.String(), want) {
					t.Errorf("the run does not say %q:\n%v\n%s", want, err, out.String())
				}
			}
		})
	}
}
