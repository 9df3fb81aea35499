package signer

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/internal/freeport"
	"github.com/certctl/certctl/internal/promtest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestServeNamesCustomSigners: signer run with only a --signer of the
// user's names it in its start-up line and serves a zero series of CSRs
// signed for it from the start, as for certctl's names, so that a
// dashboard shows 0 rather than nothing. Before, both left it out.
func TestServeNamesCustomSigners(t *testing.T) {
	own := pki.Store{Dir: t.TempDir()}
	writePair(t, own, newTestCA(t, "My Example Signer", time.Now().Add(24*time.Hour)))
	var out lockedBuffer
	o := ServeOptions{Cluster: &config.Cluster{CertificatesDir: t.TempDir(), NodeName: "cp-1", AdvertiseAddress: "198.51.100.10"},
		Fixed: testPolicy(t, PolicyOptions{}), Custom: []string{"example.com/serving=" + own.CertPath("ca") + "," + own.KeyPath("ca")},
		ListenAddress: "127.0.0.1:0", Out: &out, ErrOut: io.Discard}
	o.NewClient = func() (kubernetes.Interface, error) { return fake.NewClientset(), nil }
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, o) }()
	line := regexp.MustCompile(`\[signer\] Signing for \[(.*)\]; /healthz, /readyz and /metrics on (http://\S+)`)
	var m []string
	for m = line.FindStringSubmatch(out.String()); m == nil; m = line.FindStringSubmatch(out.String()) {
		if ctx.Err() != nil {
			t.Fatalf("no start-up line:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m[1] != "example.com/serving" {
		t.Errorf("start-up line names %q, want example.com/serving", m[1])
	}
	resp, err := http.Get(m[2] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ok, err := promtest.HasSample(string(body), `certctl_signer_csrs_signed_total{signer_name="example.com/serving"} 0`); !ok || err != nil {
		t.Errorf("/metrics has no zero series for example.com/serving (%v):\n%s", err, body)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Serve: %v", err)
	}
}

// TestAPIReach: /readyz's check passes while the API server answers,
// passes still through an outage shorter than Bound, fails past it with
// the last error, and passes again at the first answer.
func TestAPIReach(t *testing.T) {
	client := fake.NewClientset()
	var down atomic.Bool
	client.PrependReactor("list", "certificatesigningrequests", func(k8stesting.Action) (bool, runtime.Object, error) {
		if down.Load() {
			return true, nil, errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
		}
		return false, nil, nil
	})
	now := testNow
	r := &APIReach{Client: client, Bound: 20 * time.Second, Now: func() time.Time { return now }}
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // Run probes once, then returns
	r.Run(ctx)
	r.Probe(t.Context())
	if err := r.Check(); err != nil {
		t.Fatalf("API server up: %v", err)
	}
	down.Store(true)
	for _, c := range []struct {
		after time.Duration
		ready bool
	}{{5 * time.Second, true}, {20 * time.Second, true}, {21 * time.Second, false}, {time.Minute, false}} {
		now = testNow.Add(c.after)
		r.Probe(t.Context())
		if err := r.Check(); (err == nil) != c.ready {
			t.Errorf("API server down for %s: check %v, want ready %v", c.after, err, c.ready)
		} else if err != nil && (!strings.Contains(err.Error(), "has not answered for") || !strings.Contains(err.Error(), "connection refused")) {
			t.Errorf("not ready: %v, want the time and the last error", err)
		}
	}
	down.Store(false)
	r.Probe(t.Context())
	if err := r.Check(); err != nil {
		t.Errorf("API server back: %v", err)
	}
}

// TestServeLiveBeforeSync: signer run started while the API server does
// not answer is live (/healthz ok: a restart would not bring the API
// server back, and a failing liveness probe would restart the pod in a
// loop) and not ready (/readyz 500, saying the CSRs are not listed yet).
// Before, /healthz failed until the informer synced.
func TestServeLiveBeforeSync(t *testing.T) {
	own := pki.Store{Dir: t.TempDir()}
	writePair(t, own, newTestCA(t, "My Example Signer", time.Now().Add(24*time.Hour)))
	var out lockedBuffer
	o := ServeOptions{Cluster: &config.Cluster{CertificatesDir: t.TempDir(), NodeName: "cp-1", AdvertiseAddress: "198.51.100.10"},
		Rules: NodeRules{ControlPlaneNodes: []string{"cp-1=198.51.100.10"}}, Fixed: testPolicy(t, PolicyOptions{}),
		Custom:        []string{"example.com/serving=" + own.CertPath("ca") + "," + own.KeyPath("ca")},
		ListenAddress: "127.0.0.1:0", Out: &out, ErrOut: io.Discard}
	o.NewClient = func() (kubernetes.Interface, error) { return unreachableClient(t), nil }
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, o) }()
	line := regexp.MustCompile(`/readyz and /metrics on (http://\S+)`)
	var m []string
	for m = line.FindStringSubmatch(out.String()); m == nil; m = line.FindStringSubmatch(out.String()) {
		if ctx.Err() != nil {
			t.Fatalf("no start-up line:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for path, want := range map[string]struct {
		code int
		body string
	}{"/healthz": {http.StatusOK, "ok"}, "/readyz": {http.StatusInternalServerError, "the CSR informer has not synced yet"}} {
		resp, err := http.Get(m[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want.code || !strings.Contains(string(body), want.body) {
			t.Errorf("%s with the API server down: %d %q, want %d %q", path, resp.StatusCode, body, want.code, want.body)
		}
	}
	cancel()
	<-done
}

// TestServeLiveWhileLearningNodes: signer run that learns the control-plane
// nodes from an API server that does not answer waits up to 30 s for them
// before it signs; /healthz answers ok and /readyz 500 during that wait.
// Before, nothing was served until the wait ended: a liveness probe with
// the Deployment's 10 s delay and kubelet's three tries failed at 30 s,
// and the pod was restarted in a loop while the API server was down.
func TestServeLiveWhileLearningNodes(t *testing.T) {
	own := pki.Store{Dir: t.TempDir()}
	writePair(t, own, newTestCA(t, "My Example Signer", time.Now().Add(24*time.Hour)))
	// Serve prints its address only after the wait this test probes: the
	// test names the port, below the ephemeral range, where neither a
	// listener on port 0 nor a connection's source port takes it first.
	addr := freeport.Addr(t)
	o := ServeOptions{Cluster: &config.Cluster{CertificatesDir: t.TempDir(), NodeName: "cp-1", AdvertiseAddress: "198.51.100.10"},
		Fixed: testPolicy(t, PolicyOptions{}), Custom: []string{"example.com/serving=" + own.CertPath("ca") + "," + own.KeyPath("ca")},
		ListenAddress: addr, Out: io.Discard, ErrOut: io.Discard}
	o.NewClient = func() (kubernetes.Interface, error) { return unreachableClient(t), nil }
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, o) }()
	client := &http.Client{Timeout: time.Second}
	get := func(path string) (int, string) {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	start := time.Now()
	code, body := get("/healthz")
	for ; code != http.StatusOK && time.Since(start) < 10*time.Second; code, body = get("/healthz") {
		time.Sleep(100 * time.Millisecond)
	}
	if code != http.StatusOK {
		t.Fatalf("/healthz while the nodes are learned from an API server that does not answer: %d %s, want 200 ok within 10 s", code, body)
	}
	if code, body := get("/readyz"); code != http.StatusInternalServerError || !strings.Contains(body, "not synced") {
		t.Errorf("/readyz then: %d %q, want 500, not synced", code, body)
	}
	cancel()
	<-done
}

// TestServeLiveWhileReadingSettings: signer run without --config reads
// the kubeadm-config ConfigMap (up to config.ClusterTimeout while the API
// server does not answer) before it can read its CAs: /healthz answers
// ok and /readyz 500 during that read. Before, the settings were read
// before anything was served: a liveness probe got no answer at all.
func TestServeLiveWhileReadingSettings(t *testing.T) {
	dir := t.TempDir()
	writePair(t, pki.Store{Dir: dir}, newTestCA(t, "kubernetes", time.Now().Add(24*time.Hour)))
	// Serve prints its address only after the wait this test probes: the
	// test names the port, below the ephemeral range, where neither a
	// listener on port 0 nor a connection's source port takes it first.
	addr := freeport.Addr(t)
	release := make(chan struct{})
	o := ServeOptions{Rules: NodeRules{ControlPlaneNodes: []string{"cp-1=198.51.100.10"}}, ListenAddress: addr, Out: io.Discard, ErrOut: io.Discard}
	o.Settings = func() (*config.Cluster, *Policy, error) {
		<-release // the ConfigMap read, with the API server down
		return &config.Cluster{CertificatesDir: dir, NodeName: "cp-1", AdvertiseAddress: "198.51.100.10"}, testPolicy(t, PolicyOptions{}), nil
	}
	var connected atomic.Bool
	o.NewClient = func() (kubernetes.Interface, error) {
		connected.Store(true)
		return unreachableClient(t), nil
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, o) }()
	client := &http.Client{Timeout: time.Second}
	get := func(path string) (int, string) {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	start := time.Now()
	code, body := get("/healthz")
	for ; code != http.StatusOK && time.Since(start) < 5*time.Second; code, body = get("/healthz") {
		time.Sleep(50 * time.Millisecond)
	}
	if code != http.StatusOK {
		t.Errorf("/healthz while the settings are read: %d %s, want 200 ok", code, body)
	}
	if code, body := get("/readyz"); code != http.StatusInternalServerError {
		t.Errorf("/readyz while the settings are read: %d %q, want 500", code, body)
	}
	if connected.Load() {
		t.Error("Serve connected before it had its settings")
	}
	close(release)
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Serve: %v", err)
	}
}
