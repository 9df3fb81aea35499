package apirenew

import (
	"context"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"
)

// DefaultForbiddenGrace is how long the API server must keep refusing to
// list or watch CSRs before the wait stops and says so.
const DefaultForbiddenGrace = 30 * time.Second

// watchGuard sees the answers to the list and watch of CSRs that
// watchCSRs makes, and stops the wait when the API server keeps refusing
// one of them: client-go's reflector retries a Forbidden list or watch,
// without returning it, until the context ends, so that a user allowed
// to create and get CSRs but not to list or watch them would wait the
// whole Timeout for nothing.
//
// A refusal must last grace, with no success of the same verb in between:
// a kube-apiserver that has just started refuses requests until its
// authorizer has loaded the RBAC rules.
type watchGuard struct {
	clock clock.PassiveClock
	grace time.Duration
	stop  context.CancelFunc

	mu    sync.Mutex
	since map[string]time.Time // first refusal of each verb since its last success
	err   error                // the refusal that stopped the wait

	// downSince is the first list or watch that got no answer (the API
	// server stopped, unreachable) since the last answer, and downErr the
	// latest such error: while the API server is away the CSRs' states
	// are only as last seen.
	downSince time.Time
	downErr   error
}

func newWatchGuard(c clock.PassiveClock, grace time.Duration, stop context.CancelFunc) *watchGuard {
	return &watchGuard{clock: c, grace: grace, stop: stop, since: map[string]time.Time{}}
}

// observe records the answer to a list or watch (verb).
func (g *watchGuard) observe(verb string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case err == nil:
		delete(g.since, verb)
		g.downSince, g.downErr = time.Time{}, nil
		return
	case !apierrors.IsForbidden(err):
		// No answer at all, or an error status: the API server is
		// not serving the watch. It may come back (a restart), so the
		// wait goes on, saying so.
		if g.downSince.IsZero() {
			g.downSince = g.clock.Now()
		}
		g.downErr = err
		return
	}
	// A refusal is an answer.
	g.downSince, g.downErr = time.Time{}, nil
	first, ok := g.since[verb]
	if !ok {
		g.since[verb] = g.clock.Now()
		first = g.since[verb]
	}
	if g.err == nil && g.clock.Since(first) >= g.grace {
		g.err = err
		g.stop()
	}
}

// forbidden is the refusal that stopped the wait, or nil.
func (g *watchGuard) forbidden() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// unanswered says since how long the API server has answered no list or
// watch, and the latest error (zero and nil while it answers).
func (g *watchGuard) unanswered() (time.Duration, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.downErr == nil {
		return 0, nil
	}
	return g.clock.Since(g.downSince), g.downErr
}
