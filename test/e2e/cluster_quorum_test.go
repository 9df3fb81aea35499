package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/renew"
)

// availability probes every etcd member's /health and every kube-apiserver's /readyz each
// 50 ms. Each round's probes start together and are not waited for by the next round, so that
// a probe that hangs (an etcd member that accepts connections but is not ready) leaves no
// instant unobserved; a probe's answer counts for the instant it was sent.
type availability struct {
	h       *testcluster.HA
	etcd    []*http.Client
	api     []*http.Client
	stop    chan struct{}
	done    sync.WaitGroup
	mu      sync.Mutex
	rounds  []round
	probes  sync.WaitGroup
	holders map[string][]string // Lease name: its holders in turn
}

// round is one instant: the error of each etcd member's and each kube-apiserver's probe (nil:
// healthy, ready).
type round struct {
	at   time.Time
	etcd []error
	api  []error
}

const probeTimeout = 3 * time.Second

// maxElection bounds a leader election of the test's etcd. A leader that stops hands its
// leadership on (etcd's Stop transfers it, ~0.2 s here); when that fails, the others elect one
// after their randomized election timeout, 1-2 s with etcd's defaults. Two members down at
// once leave none healthy until one is back: ~10 s here (TestClusterRestartsKeepEtcdQuorum
// without the Lease).
const maxElection = 3 * time.Second

func watchAvailability(t *testing.T, ctx context.Context, h *testcluster.HA, leases ...string) *availability {
	t.Helper()
	a := &availability{h: h, stop: make(chan struct{}), holders: map[string][]string{}}
	apis := make([]kubernetes.Interface, len(h.Nodes))
	for i, c := range h.Nodes {
		ec, err := c.EtcdHTTPClient()
		if err != nil {
			t.Fatal(err)
		}
		ec.Timeout = probeTimeout
		ac, err := c.HTTPClient("admin.conf")
		if err != nil {
			t.Fatal(err)
		}
		ac.Timeout = probeTimeout
		a.etcd, a.api = append(a.etcd, ec), append(a.api, ac)
		if apis[i], err = c.AdminClient(); err != nil {
			t.Fatal(err)
		}
	}
	a.done.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-a.stop:
				return
			case <-tick.C:
			}
			r := round{at: time.Now(), etcd: make([]error, len(h.Nodes)), api: make([]error, len(h.Nodes))}
			for i, c := range h.Nodes {
				a.probes.Go(func() { r.etcd[i] = etcdHealthy(a.etcd[i], c.URL(testcluster.Etcd)+"/health") })
				a.probes.Go(func() { r.api[i] = get(a.api[i], c.URL(testcluster.APIServer)+"/readyz") })
			}
			a.mu.Lock()
			a.rounds = append(a.rounds, r)
			a.mu.Unlock()
		}
	})
	// The Leases' holders, through the first kube-apiserver that answers.
	a.done.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-a.stop:
				return
			case <-tick.C:
			}
			for _, name := range leases {
				holder := ""
				for _, api := range apis {
					lctx, cancel := context.WithTimeout(ctx, time.Second)
					l, err := api.CoordinationV1().Leases("kube-system").Get(lctx, name, metav1.GetOptions{})
					cancel()
					if err == nil {
						if l.Spec.HolderIdentity != nil {
							holder = *l.Spec.HolderIdentity
						}
						break
					}
				}
				a.mu.Lock()
				if hs := a.holders[name]; holder != "" && (len(hs) == 0 || hs[len(hs)-1] != holder) {
					a.holders[name] = append(hs, holder)
				}
				a.mu.Unlock()
			}
		}
	})
	return a
}

// finish stops the probes and waits for those still out.
func (a *availability) finish() {
	close(a.stop)
	a.done.Wait()
	a.probes.Wait()
}

// fewest returns, over all rounds, the fewest of the probes for which ok holds, and a
// description of the first round with that few.
func (a *availability) fewest(probes func(round) []error, ok func(error) bool) (int, string) {
	least, when := len(a.h.Nodes)+1, ""
	for _, r := range a.rounds {
		if n := count(probes(r), ok); n < least {
			least, when = n, a.describe(r, probes(r))
		}
	}
	return least, when
}

// longest returns the longest stretch of time during which fewer than two of the probes held
// ok (from the first round of the stretch to the first round after it), and a description of
// the stretch's first round.
func (a *availability) longest(probes func(round) []error, ok func(error) bool) (time.Duration, string) {
	var longest time.Duration
	var when string
	var from *round
	for i := range a.rounds {
		r := &a.rounds[i]
		short := count(probes(*r), ok) < 2
		switch {
		case short && from == nil:
			from = r
		case !short && from != nil || short && i == len(a.rounds)-1:
			if d := r.at.Sub(from.at); d > longest || when == "" {
				longest, when = d, a.describe(*from, probes(*from))
			}
			from = nil
		}
	}
	return longest, when
}

func (a *availability) describe(r round, errs []error) string {
	parts := []string{r.at.Format("15:04:05.000")}
	for i, err := range errs {
		s := "ok"
		if err != nil {
			s = err.Error()
		}
		parts = append(parts, fmt.Sprintf("%s: %s", a.h.Nodes[i].NodeName(), s))
	}
	return strings.Join(parts, "; ")
}

func count(errs []error, ok func(error) bool) int {
	n := 0
	for _, err := range errs {
		if ok(err) {
			n++
		}
	}
	return n
}

func etcdProbes(r round) []error { return r.etcd }
func apiProbes(r round) []error  { return r.api }
func isNil(err error) bool       { return err == nil }

// answered reports whether an etcd member answered its probe, healthy or not: its client port
// serves.
func answered(err error) bool {
	var u *unhealthyError
	return err == nil || errors.As(err, &u)
}

// unhealthyError is an etcd member's answer that it is not healthy.
type unhealthyError struct{ answer string }

func (e *unhealthyError) Error() string { return e.answer }

// etcdHealthy asks an etcd member for /health: healthy is a 200 with "health":"true", which
// etcd answers only when it has a leader and a linearizable read through the cluster's quorum
// succeeded.
func etcdHealthy(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"health":"true"`)) {
		return &unhealthyError{fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(body))}
	}
	return nil
}

// useLocalEtcd makes node c's kube-apiserver manifest name its own node's etcd member only in
// --etcd-servers, as kubeadm's does (https://127.0.0.1:2379); the harness runs it with every
// member, its own first, and it fails over.
func useLocalEtcd(t *testing.T, c *testcluster.Cluster) {
	t.Helper()
	path := c.ManifestPath(testcluster.APIServer)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flag := regexp.MustCompile(`--etcd-servers=[^\s"']+`)
	if n := len(flag.FindAll(data, -1)); n != 1 {
		t.Fatalf("%s names --etcd-servers %d times, want once", path, n)
	}
	data = flag.ReplaceAllLiteral(data, []byte("--etcd-servers="+c.URL(testcluster.Etcd)))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestClusterRestartsKeepEtcdQuorum: the three nodes run `renew all --restart-control-plane`
// at the same moment, with etcd and kube-apiserver manifests in each node's manifest folder, so
// that every node restarts its etcd member and then its kube-apiserver. Each kube-apiserver
// uses its own node's etcd member only, as kubeadm runs it, so that it is not ready while that
// member restarts. The Leases kube-system/certctl-restart-etcd and
// certctl-restart-kube-apiserver pass from node to node, an etcd restart holding both: never
// two etcd members down at once, never two kube-apiservers. Probed every 50 ms: at least two
// etcd members answer
// /health at every instant, fewer than two are healthy (a leader and a linearizable read) only
// for the moment of a leader election, so etcd keeps its quorum; and at least two
// kube-apiservers answer /readyz at every instant. Afterwards every member serves the server
// and peer certificates now in its files, and every kube-apiserver its apiserver.crt, all new
// (issue 16 item 3). Run with every restart alone (no Lease), the same test fails on all three
// counts.
func TestClusterRestartsKeepEtcdQuorum(t *testing.T) {
	h := testcluster.StartHA(t, testcluster.Options{Nodes: 3, Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 10*time.Minute)
	// The harness Kubelet runs each node's components from kubeadm-shaped manifests, as the
	// kubelet does, and restarts one whose manifest changes. Each kube-apiserver uses its own
	// node's etcd member only, as kubeadm runs it, and is not ready while that member restarts.
	if err := h.WriteManifests(); err != nil {
		t.Fatal(err)
	}
	for _, c := range h.Nodes {
		useLocalEtcd(t, c)
	}
	if _, err := h.StartKubelets(ctx); err != nil {
		t.Fatal(err)
	}

	// What each node serves before: the renewal must change all of it.
	var endpoints []servingEndpoint
	for _, c := range h.Nodes {
		endpoints = append(endpoints,
			servingEndpoint{c, "etcd client port", c.Addr(testcluster.Etcd), "etcd/server.crt"},
			servingEndpoint{c, "etcd peer port", fmt.Sprintf("%s:%d", c.Host(), c.EtcdPeerPort()), "etcd/peer.crt"},
			servingEndpoint{c, "kube-apiserver secure port", c.Addr(testcluster.APIServer), "apiserver.crt"})
	}
	before := map[string]string{}
	for _, e := range endpoints {
		got := served(t, e.addr, e.tls(t))
		if !got.Equal(readCert(t, filepath.Join(e.node.PKIDir(), e.file))) {
			t.Fatalf("%s %s serves serial %X before the renewal, not its %s", e.node.NodeName(), e.name, got.SerialNumber, e.file)
		}
		before[e.addr] = fmt.Sprintf("%X", got.SerialNumber)
	}

	leases := []string{renew.RestartLeasePrefix + testcluster.Etcd, renew.RestartLeasePrefix + testcluster.APIServer}
	watch := watchAvailability(t, ctx, h, leases...)

	type result struct {
		out             string
		err             error
		etcdPID, apiPID int
	}
	results := make([]result, 3)
	var rwg sync.WaitGroup
	for i, c := range h.Nodes {
		results[i].etcdPID, results[i].apiPID = c.PID(testcluster.Etcd), c.PID(testcluster.APIServer)
	}
	// Some observations of the undisturbed cluster first.
	time.Sleep(time.Second)
	for i, c := range h.Nodes {
		rwg.Go(func() {
			cmd := exec.CommandContext(ctx, signerCertctl(t), "renew", "all", "--restart-control-plane", "--manifest-dir", c.ManifestDir(),
				"--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(), "--restart-timeout", "3m")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			results[i].err = cmd.Run()
			results[i].out = out.String()
		})
	}
	rwg.Wait()
	time.Sleep(time.Second)
	watch.finish()

	for i, r := range results {
		c := h.Node(i + 1)
		t.Logf("%s: certctl renew all --restart-control-plane: %v\n%s", c.NodeName(), r.err, r.out)
		if r.err != nil {
			t.Errorf("%s: renew failed: %v", c.NodeName(), r.err)
		}
		if c.PID(testcluster.Etcd) == r.etcdPID {
			t.Errorf("%s: etcd was not restarted", c.NodeName())
		}
		if c.PID(testcluster.APIServer) == r.apiPID {
			t.Errorf("%s: kube-apiserver was not restarted", c.NodeName())
		}
		for _, l := range leases {
			if !strings.Contains(r.out, "took the Lease kube-system/"+l+":") {
				t.Errorf("%s did not take the Lease kube-system/%s", c.NodeName(), l)
			}
		}
	}
	for _, l := range leases {
		holders := watch.holders[l]
		nodes := map[string]bool{}
		for _, h := range holders {
			node, _, _ := strings.Cut(h, "_")
			nodes[node] = true
		}
		t.Logf("Lease kube-system/%s: holders in turn %q", l, holders)
		// Each node restarts its etcd once. kube-apiserver's Lease is held
		// by a node for its etcd's restart and for its kube-apiserver's,
		// which another node's etcd restart may come between.
		if len(nodes) != 3 || l == leases[0] && len(holders) != 3 {
			t.Errorf("Lease kube-system/%s was held by %q, want each of the three nodes in turn", l, holders)
		}
	}
	serving, servingWhen := watch.fewest(etcdProbes, answered)
	healthy, healthyWhen := watch.fewest(etcdProbes, isNil)
	leaderless, leaderlessWhen := watch.longest(etcdProbes, isNil)
	ready, readyWhen := watch.fewest(apiProbes, isNil)
	t.Logf("%d rounds of probes; fewest etcd members answering: %d (%s); fewest healthy: %d (%s); longest stretch with fewer than 2 healthy: %s (from %s); fewest kube-apiservers ready: %d (%s)",
		len(watch.rounds), serving, servingWhen, healthy, healthyWhen, leaderless, leaderlessWhen, ready, readyWhen)
	if len(watch.rounds) < 100 {
		t.Errorf("only %d rounds of probes: the observers did not watch the restarts", len(watch.rounds))
	}
	if serving < 2 {
		t.Errorf("only %d etcd member(s) answered at %s: two members were down at once; want at least 2 of 3 at every instant", serving, servingWhen)
	}
	// While a stopping leader hands its leadership on no member is healthy: an election, not a
	// loss of quorum (maxElection).
	if leaderless >= maxElection {
		t.Errorf("fewer than 2 etcd members were healthy for %s from %s: etcd lost its quorum; want no more than an election (%s)", leaderless, leaderlessWhen, maxElection)
	}
	if ready < 2 {
		t.Errorf("only %d kube-apiserver(s) ready at %s; want at least 2 of 3 at every instant", ready, readyWhen)
	}

	// Every endpoint serves the certificate in its file now, a new one.
	for _, e := range endpoints {
		want := readCert(t, filepath.Join(e.node.PKIDir(), e.file))
		got := served(t, e.addr, e.tls(t))
		switch {
		case !got.Equal(want):
			t.Errorf("%s %s serves serial %X, not its %s (serial %X)", e.node.NodeName(), e.name, got.SerialNumber, e.file, want.SerialNumber)
		case fmt.Sprintf("%X", got.SerialNumber) == before[e.addr]:
			t.Errorf("%s %s still serves serial %X, as before the renewal", e.node.NodeName(), e.name, got.SerialNumber)
		}
	}
	for _, c := range h.Nodes {
		if n := etcdMembers(t, ctx, c); n != 3 {
			t.Errorf("after the restarts, etcd on %s lists %d members, want 3", c.NodeName(), n)
		}
		readyz(t, ctx, c)
	}
}
