package staticpods

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/refused"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// fakeMember is an etcd member: an httptest TLS server that answers
// /health as health says ("true", "false", "hang"; "nospace": etcd's
// NOSPACE alarm, false unless the request excludes it; "peer": its client
// URL closed, but connected to the local member, whose /metrics says so;
// "closed": its client URL closed, and disconnected) and, for the local
// one, the member list of members.
type fakeMember struct {
	srv *httptest.Server // nil for "peer" and "closed"
	// url is its client URL: srv's, or for "peer" and "closed" one whose
	// connections are refused while the test runs (refused.Addr).
	url    string
	id     string
	name   string
	health atomic.Value // string
}

// fakeEtcd starts one member per health ("true", "false", "hang"); the
// first is this node's, which answers the member list of them all.
func fakeEtcd(t *testing.T, healths ...string) []*fakeMember {
	t.Helper()
	var ms []*fakeMember
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	for i, h := range healths {
		m := &fakeMember{id: fmt.Sprint(1000 + i), name: fmt.Sprintf("cp-%d", i+1)}
		m.health.Store(h)
		ms = append(ms, m)
	}
	for i, m := range ms {
		if h := m.health.Load(); h == "peer" || h == "closed" {
			m.url = "https://" + refused.Addr(t) // it stays in the member list
			continue
		}
		m.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/health" && m.health.Load() == "hang":
				select {
				case <-hang:
				case <-r.Context().Done():
				}
			case r.URL.Path == "/health" && m.health.Load() == "nospace":
				if r.URL.Query().Get("exclude") == "NOSPACE" {
					fmt.Fprint(w, `{"health":"true","reason":""}`)
				} else {
					fmt.Fprint(w, `{"health":"false","reason":"ALARM NOSPACE"}`)
				}
			case r.URL.Path == "/health":
				fmt.Fprintf(w, `{"health":%q,"reason":""}`, m.health.Load())
			case r.URL.Path == "/metrics" && i == 0:
				fmt.Fprintln(w, "# TYPE etcd_network_active_peers gauge")
				for _, o := range ms[1:] {
					id, _ := strconv.ParseUint(o.id, 10, 64)
					up := map[bool]int{true: 1, false: 0}[o.health.Load() == "peer"]
					fmt.Fprintf(w, "etcd_network_active_peers{Local=%q,Remote=%q} %d\n", strconv.FormatUint(1000, 16), strconv.FormatUint(id, 16), up)
				}
			case r.URL.Path == "/v3/cluster/member/list" && r.Method == http.MethodPost && i == 0:
				var list []string
				for _, o := range ms {
					list = append(list, fmt.Sprintf(`{"ID":%q,"name":%q,"peerURLs":["https://127.0.0.1:1"],"clientURLs":[%q]}`, o.id, o.name, o.url))
				}
				fmt.Fprintf(w, `{"header":{"member_id":%q},"members":[%s]}`, m.id, strings.Join(list, ","))
			default:
				http.NotFound(w, r)
			}
		}))
	}
	for _, m := range ms {
		if m.srv != nil {
			m.srv.StartTLS()
			t.Cleanup(m.srv.Close)
			m.url = m.srv.URL
		}
	}
	return ms
}

// quorumFor is an EtcdQuorum that trusts the fake members (httptest's
// one certificate).
func quorumFor(ms []*fakeMember, wait time.Duration) *EtcdQuorum {
	pool := x509.NewCertPool()
	pool.AddCert(ms[0].srv.Certificate())
	return &EtcdQuorum{Roots: pool, Wait: wait, Poll: time.Minute, Timeout: 300 * time.Millisecond}
}

// TestEtcdQuorumGate: before this node's etcd member restarts, the other
// members must keep a quorum without it, waited for up to Wait by the
// given clock; otherwise the restart is refused, naming the unhealthy
// members. One or two members, a member list that cannot be read, and a
// quorum lost already are not gated (the restart may be what fixes them).
func TestEtcdQuorumGate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		healths []string // this node's member first
		recover int      // after this many sleeps, every member is healthy (0: never)
		down    bool     // this node's member does not answer at all
		cancel  bool     // the run is interrupted (a signal) before the check
		wantErr []string // "" parts of the refusal; nil: the restart goes on
		wantOut []string
		slept   time.Duration // by the clock, at least
	}{
		{name: "three healthy", healths: []string{"true", "true", "true"}, wantOut: []string{"2 of the other 2 etcd members are healthy"}},
		{name: "single member", healths: []string{"true"}, wantOut: []string{"a single member"}},
		{name: "two members", healths: []string{"true", "false"}, wantOut: []string{"2 members"}},
		{name: "one other down, waits and refuses", healths: []string{"true", "false", "true"},
			wantErr: []string{"would lose its quorum", "member cp-1 down", "cp-2 (https://127.0.0.1:", "health false", "only 1 of 3", "quorum of 2", "waited 15m0s", "bring cp-2's etcd back", "run certctl again"},
			wantOut: []string{"waiting up to 15m0s for etcd member cp-2"}, slept: 15 * time.Minute},
		{name: "one other hangs", healths: []string{"true", "true", "hang"},
			wantErr: []string{"cp-3 (https://127.0.0.1:", "no answer within 300ms"}, slept: 15 * time.Minute},
		{name: "five members, one down", healths: []string{"true", "false", "true", "true", "true"}, wantOut: []string{"3 of the other 4"}},
		{name: "five members, two down", healths: []string{"true", "false", "hang", "true", "true"},
			wantErr: []string{"cp-2 (", "cp-3 (", "only 2 of 5", "quorum of 3"}, slept: 15 * time.Minute},
		{name: "other comes back while waiting", healths: []string{"true", "false", "true"}, recover: 3,
			wantOut: []string{"waiting up to 15m0s for etcd member cp-2", "2 of the other 2 etcd members are healthy"}, slept: 3 * time.Minute},
		// The alarm is raised on every member at once; each still votes, so
		// with cp-3 down the restart of this one would lose the quorum.
		{name: "NOSPACE alarm, one other down", healths: []string{"nospace", "nospace", "false"},
			wantErr: []string{"would lose its quorum", "cp-3 (https://127.0.0.1:", "only 1 of 3"}, slept: 15 * time.Minute},
		{name: "quorum lost already", healths: []string{"false", "false", "true"},
			wantOut: []string{"has no quorum now", "not gated"}},
		// This member answers healthy, which etcd's /health does only
		// with a leader and a linearizable read, that is with a quorum:
		// one of the members this node sees as unhealthy (cp-3, slow to
		// answer) still votes, and restarting this one would lose it.
		{name: "this one healthy, others look unhealthy", healths: []string{"true", "false", "hang"},
			wantErr: []string{"would lose its quorum", "cp-2 (", "cp-3 (", "only 0 of 3", "quorum of 2"}, slept: 15 * time.Minute},
		// Port 2379 closed between the nodes (kubeadm's kube-apiservers
		// ask their own member only): the other members are seen by the
		// local member's peer connections.
		{name: "others' client URLs closed, connected as peers", healths: []string{"true", "peer", "peer"},
			wantOut: []string{"2 of the other 2 etcd members are healthy (cp-2 (https://127.0.0.1:", "connected to this member by the peer URL, as its etcd_network_active_peers says"}},
		{name: "one closed and disconnected, one connected as a peer", healths: []string{"true", "closed", "peer"},
			wantErr: []string{"would lose its quorum", "cp-2 (https://127.0.0.1:", "only 1 of 3"}, slept: 15 * time.Minute},
		{name: "local member down", healths: []string{"true", "false", "true"}, down: true,
			wantOut: []string{"cannot read etcd's member list", "not gated"}},
		{name: "interrupted", healths: []string{"true", "true", "true"}, cancel: true, wantErr: []string{"context canceled"}},
		{name: "interrupted with a member down", healths: []string{"true", "false", "true"}, down: true, cancel: true, wantErr: []string{"context canceled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := fakeEtcd(t, tc.healths...)
			q := quorumFor(ms, 15*time.Minute)
			local := ms[0].url
			if tc.down {
				ms[0].srv.Close()
				local = "https://" + refused.Addr(t) // a closed listener's port may be taken by the next
			}
			clock := treetest.NewStepClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			start := clock.Now()
			sleeps := 0
			var out bytes.Buffer
			o := Options{Clock: clock.Now, Out: &out, ProgressEvery: 10 * time.Second, Sleep: func(ctx context.Context, d time.Duration) error {
				if sleeps++; sleeps == tc.recover {
					for _, m := range ms {
						m.health.Store("true")
					}
				}
				return clock.Sleep(ctx, d)
			}}
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				cancel()
			}
			defer cancel()
			err := q.check(ctx, local, o)
			t.Logf("out:\n%s\nerr: %v", out.String(), err)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("restart refused: %v", err)
			case tc.wantErr != nil && err == nil:
				t.Fatalf("restart allowed, want it refused")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if got := clock.Now().Sub(start); got < tc.slept || tc.slept == 0 && got > 0 {
				t.Errorf("waited %s by the clock, want %s", got, tc.slept)
			}
		})
	}
}

// TestRestartRefusedWithoutQuorum: Restart does not touch etcd's manifest
// when the other members would lose their quorum, hands the turn on as
// nothing was restarted (release(true)), and fails the component with the
// refusal, so that the restart stays owed.
func TestRestartRefusedWithoutQuorum(t *testing.T) {
	ms := fakeEtcd(t, "true", "false", "true")
	dir, affected := etcdAffected(t, ms)
	before := snapshot(t, dir)
	clock := treetest.NewStepClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var released []bool
	var out bytes.Buffer
	results, err := Restart(context.Background(), affected, Options{Clock: clock.Now, Now: clock.Now, Sleep: clock.Sleep, Out: &out,
		ListenerPID: func(string, int) (int, error) { return 100, nil },
		Coordinate: func(context.Context, string) (func(bool), error) {
			return func(ok bool) { released = append(released, ok) }, nil
		},
		EtcdQuorum: quorumFor(ms, 3*time.Minute)})
	t.Logf("out:\n%s", out.String())
	if err == nil || !strings.Contains(err.Error(), "would lose its quorum") || !strings.Contains(err.Error(), "cp-2") {
		t.Fatalf("Restart: %v, want the restart refused naming cp-2", err)
	}
	if len(results) != 1 || results[0].Status != Failed || !strings.Contains(results[0].Message, "cp-2") {
		t.Errorf("results %+v, want etcd failed with the refusal", results)
	}
	if len(released) != 1 || !released[0] {
		t.Errorf("released %v, want the turn handed on once as nothing restarted", released)
	}
	if after := snapshot(t, dir); !bytes.Equal(after["etcd.yaml"], before["etcd.yaml"]) || len(after) != len(before) {
		t.Errorf("the manifest folder changed although the restart was refused")
	}
}

// etcdAffected writes an etcd manifest whose client URL is the fake
// member ms[0]'s, and returns its folder and etcd as Restart's argument.
func etcdAffected(t *testing.T, ms []*fakeMember) (string, []Affected) {
	t.Helper()
	dir, certDir := t.TempDir(), t.TempDir()
	_, port, _ := strings.Cut(strings.TrimPrefix(ms[0].srv.URL, "https://"), ":")
	manifest := filepath.Join(dir, "etcd.yaml")
	pod := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  labels: {component: etcd, tier: control-plane}
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --listen-client-urls=https://127.0.0.1:%s
    - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    - --peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt
    - --listen-peer-urls=http://127.0.0.1:1
    image: registry.k8s.io/etcd:3.6.5-0
    name: etcd
    volumeMounts:
    - {mountPath: /etc/kubernetes/pki/etcd, name: etcd-certs}
  volumes:
  - hostPath: {path: %s, type: DirectoryOrCreate}
    name: etcd-certs
`, port, certDir)
	if err := os.WriteFile(manifest, []byte(pod), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	affected := set.Affected([]string{filepath.Join(certDir, "peer.crt")})
	if len(affected) != 1 || affected[0].Component != pki.Etcd {
		t.Fatalf("affected %v, want etcd", affected)
	}
	return dir, affected
}

// TestRestartHandsTheLeaseOnWhileWaiting: a node that waits for another
// node's etcd member to come back held the restart Lease for the whole
// wait, up to 15 minutes, while the node whose member was down, and whose
// restart was what would bring it back, waited for that Lease. The Lease
// is handed on while it waits, taken again once the members are back,
// and the quorum checked once more under it.
func TestRestartHandsTheLeaseOnWhileWaiting(t *testing.T) {
	ms := fakeEtcd(t, "true", "false", "true")
	_, affected := etcdAffected(t, ms)
	clock := treetest.NewStepClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var events []string
	held, sleeps := false, 0
	var out bytes.Buffer
	_, _ = Restart(context.Background(), affected, Options{Clock: clock.Now, Now: clock.Now, Out: &out, Timeout: time.Minute,
		Sleep: func(ctx context.Context, d time.Duration) error {
			if held && len(events) < 3 {
				t.Errorf("waited for the other members holding the restart Lease (events %v)", events)
			}
			if sleeps++; sleeps == 2 {
				ms[1].health.Store("true")
			}
			return clock.Sleep(ctx, d)
		},
		ListenerPID: func(string, int) (int, error) { return 100, nil },
		Coordinate: func(context.Context, string) (func(bool), error) {
			events, held = append(events, "take"), true
			return func(ok bool) { events, held = append(events, fmt.Sprintf("release(%v)", ok)), false }, nil
		},
		EtcdQuorum: quorumFor(ms, 3*time.Minute)})
	t.Logf("out:\n%s", out.String())
	if want := "take release(true) take"; !strings.HasPrefix(strings.Join(events, " "), want) || len(events) != 4 {
		t.Errorf("Lease events %v, want %s, then one release once etcd's restart is done", events, want)
	}
	for _, want := range []string{"the restart Lease is handed on while this node waits", "2 of the other 2 etcd members are healthy"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the restart does not say %q:\n%s", want, out.String())
		}
	}
}
