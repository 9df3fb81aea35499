package signer

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/bounded"
)

// APIReach follows whether the API server answers the signer, for
// /readyz: every Period it lists one CSR (what the signer does anyway, with
// the same credentials), and Check fails once no list has succeeded for
// longer than Bound. /healthz (liveness) does not use it: an API server
// that is down, or restarting, does not mend by restarting the signer, and
// a liveness probe that failed then would restart every replica in a loop,
// as kube-controller-manager's /healthz does not either
// (https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/).
type APIReach struct {
	Client kubernetes.Interface
	// Period is the time between two lists; 5s when zero. Bound is how long
	// the API server may not answer before Check fails; 20s when zero, so
	// that one slow or lost answer does not make the replica not ready.
	Period, Bound time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu      sync.Mutex
	started bool
	last    time.Time // of the last answer, or of the start
	err     error     // of the last list, nil once one succeeds
}

func (r *APIReach) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// Run lists one CSR every Period until ctx ends.
func (r *APIReach) Run(ctx context.Context) {
	defer utilruntime.HandleCrash()
	r.mu.Lock()
	r.started, r.last = true, r.now()
	r.mu.Unlock()
	t := time.NewTicker(cmp.Or(r.Period, 5*time.Second))
	defer t.Stop()
	for {
		r.Probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Probe lists one CSR, waiting at most Bound, and records the answer.
func (r *APIReach) Probe(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, cmp.Or(r.Bound, 20*time.Second))
	defer cancel()
	// bounded.Call: client-go runs the kubeconfig's exec credential plugin
	// without the request's context; a plugin that hangs held Probe, and
	// Check, with no error recorded yet, kept the replica ready.
	_, err := bounded.Call(lctx, func(ctx context.Context) (*certv1.CertificateSigningRequestList, error) {
		return r.Client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{Limit: 1})
	})
	if ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
	if err == nil {
		r.last = r.now()
	}
}

// Check fails when the API server has not answered for longer than
// Bound, with the last error.
func (r *APIReach) Check() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	bound := cmp.Or(r.Bound, 20*time.Second)
	if !r.started || r.err == nil {
		return nil
	}
	if since := r.now().Sub(r.last); since > bound {
		return fmt.Errorf("the API server has not answered for %s: %w", since.Round(time.Second), APIHint(r.err, "signer"))
	}
	return nil
}
