package apirenew

import (
	"context"
	"sync"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	certsv1client "k8s.io/client-go/kubernetes/typed/certificates/v1"
	"k8s.io/client-go/util/watchlist"
	"k8s.io/utils/clock"
)

// DefaultForbiddenGrace is how long the API server must keep refusing to
// list or watch CSRs before the wait stops and says so.
const DefaultForbiddenGrace = 30 * time.Second

// watchGuard sees the answers to the lists and watches of CSRs that
// csr.WaitForCertificate makes, and stops the wait when the API server
// keeps refusing one of them: client-go's csr package and its reflector
// retry a Forbidden list or watch, without returning it, until the
// context ends, so that a user allowed to create and get CSRs but not to
// list or watch them would wait the whole Timeout for nothing.
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

// guardedClient is a clientset whose certificates/v1 CSR lists and watches
// report to a watchGuard; everything else is the wrapped clientset's.
type guardedClient struct {
	kubernetes.Interface
	g *watchGuard
}

func (c guardedClient) CertificatesV1() certsv1client.CertificatesV1Interface {
	return guardedV1{c.Interface.CertificatesV1(), c.g}
}

// IsWatchListSemanticsUnSupported passes on what the wrapped clientset
// says (the fake clientset cannot stream lists), which the reflector asks.
func (c guardedClient) IsWatchListSemanticsUnSupported() bool {
	return watchlist.DoesClientNotSupportWatchListSemantics(c.Interface)
}

type guardedV1 struct {
	certsv1client.CertificatesV1Interface
	g *watchGuard
}

func (v guardedV1) CertificateSigningRequests() certsv1client.CertificateSigningRequestInterface {
	return guardedCSRs{v.CertificatesV1Interface.CertificateSigningRequests(), v.g}
}

type guardedCSRs struct {
	certsv1client.CertificateSigningRequestInterface
	g *watchGuard
}

func (c guardedCSRs) List(ctx context.Context, o metav1.ListOptions) (*certv1.CertificateSigningRequestList, error) {
	l, err := c.CertificateSigningRequestInterface.List(ctx, o)
	c.g.observe("list", err)
	return l, err
}

func (c guardedCSRs) Watch(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	w, err := c.CertificateSigningRequestInterface.Watch(ctx, o)
	c.g.observe("watch", err)
	return w, err
}
