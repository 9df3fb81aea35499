// Package bounded bounds one request of a Kubernetes API client by its
// context, even while client-go waits for something that ignores it.
package bounded

import (
	"context"
	"fmt"
)

// Call runs call, one request of a client (a Get, a List), beside the
// caller, and returns once ctx is done, whether call has returned or not.
// client-go runs a kubeconfig's exec credential plugin without the
// request's context (k8s.io/client-go/plugin/pkg/client/auth/exec:
// exec.Command in the transport's RoundTrip, which a transport wrapper of
// rest.Config sits beneath), so a plugin that hangs holds the request
// past ctx's deadline. The call left behind ends when the plugin does;
// its result is dropped. Not for informers or watches, which outlive one
// call. A ctx that is never done runs call as it is. It is a package of
// its own, importing nothing of certctl's, so that phases/config's read of
// the kubeadm-config ConfigMap uses it too (internal/kubeclient's tests
// import internal/pkitest, which imports phases/config).
func Call[T any](ctx context.Context, call func(context.Context) (T, error)) (T, error) {
	if ctx.Done() == nil {
		return call(ctx)
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // the call left behind does not block
	go func() {
		v, err := call(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("no answer (the API server, or the kubeconfig's exec credential plugin): %w", context.Cause(ctx))
	}
}
