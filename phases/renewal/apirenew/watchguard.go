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
		return
	case !apierrors.IsForbidden(err):
		return
	}
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
