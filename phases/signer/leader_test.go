package signer

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"
)

// TestRunLeadingWaitsForLead: stopped (SIGTERM) while leading, RunLeading
// returns only once lead has: signer run then exits after the CSRs being
// signed are written, not while they are (client-go's elector runs lead in
// a goroutine of its own and does not wait for it).
func TestRunLeadingWaitsForLead(t *testing.T) {
	ctx, stop := context.WithCancel(t.Context())
	var finished atomic.Bool
	lead := func(lctx context.Context) {
		stop() // SIGTERM once leading
		<-lctx.Done()
		time.Sleep(300 * time.Millisecond) // the status write in flight
		finished.Store(true)
	}
	le := LeaderElection{Identity: "a", LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 100 * time.Millisecond}
	if err := RunLeading(ctx, fake.NewClientset(), le, NewMetrics(), nil, lead, nil); err != nil {
		t.Fatalf("RunLeading: %v", err)
	}
	if !finished.Load() {
		t.Error("RunLeading returned while lead was still running: signer run would exit in the middle of a status write")
	}
}
