package apirenew

import (
	"context"

	"github.com/go-logr/logr"
	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// csrEvent is a change the watch saw to one of the run's CSRs: the CSR as
// it is now, or gone (deleted).
type csrEvent struct {
	csr  *certv1.CertificateSigningRequest
	gone bool
}

// watchCSRs watches the CSRs named by the keys of jobs with one informer (one list,
// then one watch, for the whole batch) and sends each change to the
// returned channel until ctx ends. One watch instead of one per CSR, as
// client-go's csr.WaitForCertificate makes: a batch of eleven would
// otherwise make eleven lists and eleven watches, which the client's rate
// limiter delays, and which the API server serves eleven times. The watch
// is of every CSR, because a field selector names one object at most; the
// others are dropped here. Each list and watch reports its answer to
// guard, so that it sees them refused.
func watchCSRs(ctx context.Context, client kubernetes.Interface, guard *watchGuard, jobs map[string]*job) <-chan csrEvent {
	csrs := client.CertificatesV1().CertificateSigningRequests()
	lw := cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			l, err := csrs.List(ctx, o)
			if ctx.Err() == nil {
				// An error because the wait ended is not the API
				// server's.
				guard.observe("list", err)
			}
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			w, err := csrs.Watch(ctx, o)
			if ctx.Err() == nil {
				guard.observe("watch", err)
			}
			return w, err
		},
	}, client)
	ch := make(chan csrEvent, 2*len(jobs)+8)
	send := func(obj any, gone bool) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		c, ok := obj.(*certv1.CertificateSigningRequest)
		if !ok || jobs[c.Name] == nil {
			return
		}
		select {
		case ch <- csrEvent{csr: c, gone: gone}:
		case <-ctx.Done():
		}
	}
	// The reflector logs a refused list or watch through klog, on
	// stderr; the watchGuard reports it instead.
	logger := logr.Discard()
	_, ctrl := cache.NewInformerWithOptions(cache.InformerOptions{
		Logger:        &logger,
		ListerWatcher: lw,
		ObjectType:    &certv1.CertificateSigningRequest{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { send(obj, false) },
			UpdateFunc: func(_, obj any) { send(obj, false) },
			DeleteFunc: func(obj any) { send(obj, true) },
		},
	})
	go ctrl.RunWithContext(ctx)
	return ch
}
