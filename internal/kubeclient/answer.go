package kubeclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/rest"
)

// DefaultAnswerTimeout bounds the wait for the API server's answer to one
// request (its status line and headers), once connected. kube-apiserver
// answers every request that is not a watch within its own
// --request-timeout (default 1m), with a 504 if it must; a watch answers
// at once and then streams, which this does not cut. A server that
// accepts the connection and the TLS handshake but never answers (a
// wedged API server, a proxy with no backend) would otherwise hold
// approve, deny, sign or certs upload forever, from cron with the lock
// held. client-go's own dial (30 s) and TLS handshake (10 s) timeouts
// bound the rest.
const DefaultAnswerTimeout = 70 * time.Second

// noAnswerError is a request the API server did not answer within the
// answer timeout; a net.Error that is a timeout, so that Unanswered adds
// what to do.
type noAnswerError struct {
	after time.Duration
}

func (e *noAnswerError) Error() string {
	return fmt.Sprintf("the API server accepted the connection but did not answer within %v", e.after)
}
func (e *noAnswerError) Timeout() bool   { return true }
func (e *noAnswerError) Temporary() bool { return true }

// transportError is a request the API server did not answer (refused,
// no route, a TLS handshake, no answer in time), with where the client's
// kubeconfig came from, for Unanswered's advice. Its text is the cause's:
// http.Client names the request and its URL.
type transportError struct {
	err    error
	source string // Client.Source
	// proxy names the proxy the request went through, "" for none: its
	// refusal of CONNECT ("Forbidden") reads as the API server's own.
	proxy string
}

func (e *transportError) Error() string {
	if e.proxy == "" {
		return e.err.Error()
	}
	return fmt.Sprintf("%v (through the proxy %s)", e.err, e.proxy)
}
func (e *transportError) Unwrap() error { return e.err }

// Timeout and Temporary are the cause's: url.Error asks its direct cause.
func (e *transportError) Timeout() bool {
	var ne interface{ Timeout() bool }
	return errors.As(e.err, &ne) && ne.Timeout()
}

func (e *transportError) Temporary() bool {
	var ne interface{ Temporary() bool }
	return errors.As(e.err, &ne) && ne.Temporary()
}

// answerWithin returns a transport wrapper (rest.Config.WrapTransport)
// that fails a request whose answer has not come after d, and names
// source, and the proxy of cfg's requests, in the errors of the transport.
func answerWithin(d time.Duration, source string, cfg *rest.Config) func(http.RoundTripper) http.RoundTripper {
	// client-go's transport: the kubeconfig's proxy-url, else
	// $HTTPS_PROXY and $NO_PROXY (with CIDRs).
	proxy, from := cfg.Proxy, "proxy-url of the "+source
	if proxy == nil {
		proxy, from = utilnet.NewProxierWithNoProxyCIDR(http.ProxyFromEnvironment), "$HTTPS_PROXY; add the API server to $NO_PROXY to reach it directly"
	}
	return func(rt http.RoundTripper) http.RoundTripper {
		return &answerTimeout{rt: rt, after: d, source: source, proxy: func(req *http.Request) string {
			if u, err := proxy(req); err == nil && u != nil {
				return u.Redacted() + " (" + from + ")"
			}
			return ""
		}}
	}
}

type answerTimeout struct {
	rt     http.RoundTripper
	after  time.Duration
	source string
	proxy  func(*http.Request) string
}

var errNoAnswer = errors.New("no answer")

func (a *answerTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	var mu sync.Mutex
	returned, fired := false, false
	t := time.AfterFunc(a.after, func() {
		mu.Lock()
		defer mu.Unlock()
		if !returned {
			fired = true
			cancel(errNoAnswer)
		}
	})
	resp, err := a.rt.RoundTrip(req.WithContext(ctx))
	mu.Lock()
	returned = true
	mu.Unlock()
	t.Stop()
	switch {
	case fired:
		if resp != nil {
			resp.Body.Close()
		}
		cancel(nil)
		return nil, &transportError{err: &noAnswerError{after: a.after}, source: a.source, proxy: a.proxy(req)}
	case err != nil:
		cancel(nil)
		if req.Context().Err() != nil {
			return nil, err // interrupted, or the caller's deadline
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			// A connection closed without an answer (a kube-apiserver
			// restarting): client-go retries a GET on these, recognised
			// by identity (utilnet.IsProbableEOF), not when wrapped.
			return nil, err
		}
		return nil, &transportError{err: err, source: a.source, proxy: a.proxy(req)}
	}
	// The body (a watch's stream) is read under ctx: cancel it only once
	// it is closed.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: func() { cancel(nil) }}
	return resp, nil
}

// cancelOnClose is a response body that releases its request's context
// when closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel func()
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
