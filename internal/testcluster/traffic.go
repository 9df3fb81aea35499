package testcluster

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// TrafficKind is one kind of client the traffic prober runs against every node.
type TrafficKind string

// The kinds of client, each trusting and presenting only what certctl distributes, each
// re-reading it as the real client does (see StartTraffic).
const (
	// TrafficAdmin is kubectl with the node's admin.conf: GET /api/v1/namespaces/kube-system.
	TrafficAdmin TrafficKind = "admin"
	// TrafficServiceAccount is a pod's client: a bound service-account token and the root CA
	// published in ConfigMap kube-root-ca.crt; POST a SelfSubjectReview and check the user.
	TrafficServiceAccount TrafficKind = "service-account"
	// TrafficFrontProxy is kube-aggregator proxying to an API server: front-proxy-client.crt
	// with X-Remote-User/X-Remote-Group, trusting ca.crt; POST a SelfSubjectReview and check the
	// user comes from the headers.
	TrafficFrontProxy TrafficKind = "front-proxy"
	// TrafficEtcd is kube-apiserver's etcd client: apiserver-etcd-client.crt, trusting
	// etcd/ca.crt; GET /health of the node's etcd member.
	TrafficEtcd TrafficKind = "etcd"
)

// AllTrafficKinds lists every kind, in report order.
var AllTrafficKinds = []TrafficKind{TrafficAdmin, TrafficServiceAccount, TrafficFrontProxy, TrafficEtcd}

// TrafficOptions configure StartTraffic. The zero value probes every 50 ms with every kind the
// nodes can answer.
type TrafficOptions struct {
	// Kinds to run. Empty means all, without TrafficServiceAccount when the nodes run no
	// kube-controller-manager (nothing publishes kube-root-ca.crt then).
	Kinds []TrafficKind
	// Interval between the starts of two requests of one kind to one endpoint; a request that
	// takes longer delays the next. Zero means 50ms.
	Interval time.Duration
	// Timeout of one request; a request to a listening endpoint that takes longer counts as
	// failed. Zero means 5s.
	Timeout time.Duration
	// Namespace and ServiceAccount of the service-account client, created if missing. Empty
	// means "certctl-traffic" and "prober".
	Namespace, ServiceAccount string
	// TokenExpiration is the bound token's requested lifetime (the TokenRequest API's minimum is
	// 10 min). Zero means 10 min.
	TokenExpiration time.Duration
	// TokenRefresh is how often a new token is requested. Zero means 80% of TokenExpiration, as
	// the kubelet refreshes projected tokens (pkg/kubelet/token/token_manager.go).
	TokenRefresh time.Duration
	// RootCARefresh is how often ConfigMap kube-root-ca.crt is read again, as the kubelet syncs
	// a projected volume. Zero means 10s.
	RootCARefresh time.Duration
	// SetupTimeout bounds creating the namespace and service account, the first token, and the
	// wait for kube-controller-manager to publish kube-root-ca.crt. Zero means 2 min.
	SetupTimeout time.Duration
	// KeepErrors is how many failed requests' texts are kept per kind and endpoint. Zero means 5.
	KeepErrors int
	// ReadyOnly sends the kube-apiserver kinds' requests as a load balancer in front of the
	// kube-apiservers would: only to an endpoint whose latest health check, GET /readyz without
	// verifying the server certificate (kubeadm's HAProxy example checks with "verify none"),
	// made every Interval, answered 200. A request not sent because its endpoint was not ready
	// counts as NotReady. etcd's kind is not gated (kube-apiserver's etcd client has no such
	// check). False sends every request, as a client pinned to one kube-apiserver does.
	ReadyOnly bool
	// Logf receives the prober's own problems (a token or root CA refresh that failed). Nil
	// means the first node's Options.Logf.
	Logf func(format string, args ...any)
}

func (o TrafficOptions) withDefaults(nodes []*Cluster) TrafficOptions {
	if len(o.Kinds) == 0 {
		for _, k := range AllTrafficKinds {
			if k != TrafficServiceAccount || slices.Contains(nodes[0].opts.Components, ControllerManager) {
				o.Kinds = append(o.Kinds, k)
			}
		}
	}
	o.Interval = cmp.Or(o.Interval, 50*time.Millisecond)
	o.Timeout = cmp.Or(o.Timeout, 5*time.Second)
	o.TokenExpiration = cmp.Or(o.TokenExpiration, 10*time.Minute)
	o.TokenRefresh = cmp.Or(o.TokenRefresh, o.TokenExpiration*8/10)
	o.RootCARefresh = cmp.Or(o.RootCARefresh, 10*time.Second)
	o.SetupTimeout = cmp.Or(o.SetupTimeout, 2*time.Minute)
	o.Namespace = cmp.Or(o.Namespace, "certctl-traffic")
	o.ServiceAccount = cmp.Or(o.ServiceAccount, "prober")
	o.KeepErrors = cmp.Or(o.KeepErrors, 5)
	if o.Logf == nil {
		o.Logf = nodes[0].opts.Logf
	}
	return o
}

// Traffic is a running prober; Stop ends it and returns its Report.
type Traffic struct {
	opts   TrafficOptions
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sa     *saCredentials // nil without TrafficServiceAccount

	mu    sync.Mutex
	stats *stats
	ready map[string]bool // node -> its kube-apiserver's latest /readyz was 200 (ReadyOnly)
}

// outcome is how one request ended.
type outcome int

const (
	ok          outcome = iota
	failed              // the endpoint answered (or listened) and the request did not succeed
	unavailable         // connection refused: nothing listens, e.g. the component is restarting
	notReady            // not sent: the endpoint's latest readiness check failed (ReadyOnly)
)

// StartTraffic starts clients that make a request every Interval to every node's endpoint, one
// stream per kind and node, until ctx ends or Stop. Each request opens a new connection (as each
// kubectl call does), so every request verifies the certificate served at that moment, and
// each reads its credentials and trust anew:
//   - admin: the node's admin.conf, read before each request;
//   - service-account: a token from the TokenRequest API for ServiceAccount (renewed every
//     TokenRefresh) and the CA bundle of ConfigMap kube-root-ca.crt in Namespace (read every
//     RootCARefresh), as a pod sees them through its projected volume;
//   - front-proxy: the node's front-proxy-client.crt/key and ca.crt, read before each request;
//   - etcd: the node's apiserver-etcd-client.crt/key and etcd/ca.crt, read before each request.
//
// Requests go to the node's kube-apiserver (c.URL(APIServer)) or etcd member (c.URL(Etcd)). A
// request counts as ok (2xx and the expected answer), unavailable (connection refused), not
// ready (with ReadyOnly, not sent), or failed (anything else: TLS errors, 401/403, 5xx, timeouts, a credential file that cannot be
// read). The service-account setup (namespace, service account, first token, published root
// CA) happens before StartTraffic returns, through the first node whose admin.conf works.
func StartTraffic(ctx context.Context, nodes []*Cluster, opts TrafficOptions) (*Traffic, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("testcluster: StartTraffic needs at least one node")
	}
	opts = opts.withDefaults(nodes)
	for _, k := range opts.Kinds {
		if !slices.Contains(AllTrafficKinds, k) {
			return nil, fmt.Errorf("testcluster: unknown traffic kind %q; want one of %q", k, AllTrafficKinds)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	t := &Traffic{opts: opts, cancel: cancel, stats: newStats(opts, nodes), ready: map[string]bool{}}
	if opts.ReadyOnly {
		for _, c := range nodes {
			t.checkReady(ctx, c)
			// The load balancer's health check of c's kube-apiserver.
			t.wg.Go(func() { every(ctx, opts.Interval, false, func() { t.checkReady(ctx, c) }) })
		}
	}
	if slices.Contains(opts.Kinds, TrafficServiceAccount) {
		sa, err := setupServiceAccount(ctx, nodes, opts)
		if err != nil {
			cancel()
			return nil, err
		}
		t.sa = sa
		// Each credential on its own timer: a slow refresh of one does not delay the other.
		t.wg.Go(func() { sa.refreshLoop(ctx, "token", opts.TokenRefresh, sa.refreshToken) })
		t.wg.Go(func() { sa.refreshLoop(ctx, "root CA", opts.RootCARefresh, sa.refreshRootCA) })
	}
	for _, kind := range opts.Kinds {
		for _, c := range nodes {
			t.wg.Go(func() { t.stream(ctx, kind, c) })
		}
	}
	return t, nil
}

// Stop ends every client, waits for them, and returns the report. A request cut short by Stop
// is not counted.
func (t *Traffic) Stop() Report {
	t.cancel()
	t.wg.Wait()
	return t.Report()
}

// Report returns the counts so far; it may be called while the traffic runs.
func (t *Traffic) Report() Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats.report(time.Now())
}

func (t *Traffic) stream(ctx context.Context, kind TrafficKind, c *Cluster) {
	gated := t.opts.ReadyOnly && kind != TrafficEtcd
	every(ctx, t.opts.Interval, true, func() {
		rctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
		defer cancel()
		var o outcome
		var text string
		t.mu.Lock()
		skip := gated && !t.ready[c.nodeName]
		t.mu.Unlock()
		if skip {
			o = notReady
		} else {
			o, text = t.request(rctx, kind, c)
		}
		if ctx.Err() != nil {
			return // cut short by Stop: not counted
		}
		t.mu.Lock()
		t.stats.record(kind, c.nodeName, o, text, time.Now())
		t.mu.Unlock()
	})
}

func (t *Traffic) checkReady(ctx context.Context, c *Cluster) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	o, _, _ := send(ctx, &tls.Config{InsecureSkipVerify: true}, http.MethodGet, c.URL(APIServer)+"/readyz", nil, nil, http.StatusOK) //nolint:gosec // a health check, as kubeadm's HAProxy example makes it
	if ctx.Err() != nil && o != ok {
		return // cut short by Stop
	}
	t.mu.Lock()
	t.ready[c.nodeName] = o == ok
	t.mu.Unlock()
}

// request makes one request of kind to node c.
func (t *Traffic) request(ctx context.Context, kind TrafficKind, c *Cluster) (outcome, string) {
	switch kind {
	case TrafficAdmin:
		return adminRequest(ctx, c)
	case TrafficServiceAccount:
		return t.sa.request(ctx, c)
	case TrafficFrontProxy:
		return frontProxyRequest(ctx, c)
	case TrafficEtcd:
		return etcdRequest(ctx, c)
	}
	return failed, fmt.Sprintf("unknown traffic kind %q", kind)
}
