package staticpods

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

// readyPeer is another node's kube-apiserver: /readyz answers 200 while
// ready, else 500 as kube-apiserver does.
func readyPeer(t *testing.T, ready bool) (*atomic.Bool, string) {
	var r atomic.Bool
	r.Store(ready)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !r.Load() {
			http.Error(w, "[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return &r, strings.TrimPrefix(srv.URL, "https://")
}

// TestRestartGatedOnOtherAPIServers: the Lease keeps two nodes from
// restarting kube-apiserver at once, not a node from restarting the last
// ready one: after a renewal that left kube-apiserver unable to be ready
// on the other nodes (their restarts failed, their Leases expired), this
// node took its own down too, and no kube-apiserver answered. It is now
// restarted only while another node's is ready; while none is, it waits
// (handing the Lease on) up to APIServers.Wait, then fails naming them,
// with its manifest untouched. Not gated: this node's own kube-apiserver
// not ready (nothing ready is taken away), and others that cannot be
// listed.
func TestRestartGatedOnOtherAPIServers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		selfReady  bool
		peersReady []bool
		listErr    error
		readyAfter int // sleeps after which the first peer is ready; 0: never
		restarted  bool
		say        string
		events     string
	}{
		{name: "one other ready", selfReady: true, peersReady: []bool{false, true}, restarted: true,
			say: "[restart] kube-apiserver: 1 of the other 2 kube-apiservers is ready (cp-3 (", events: "take release(true)"},
		{name: "none ready", selfReady: true, peersReady: []bool{false, false}, restarted: false,
			say: "not restarted, as no kube-apiserver would be ready: the other ones are not: cp-2 (", events: "take release(true)"},
		{name: "ready while waiting", selfReady: true, peersReady: []bool{false}, readyAfter: 2, restarted: true,
			say: "[restart] kube-apiserver: the restart Lease is handed on while this node waits, so that the node whose kube-apiserver is down can restart it", events: "take release(true) take release(true)"},
		{name: "this one not ready", selfReady: false, peersReady: []bool{false}, restarted: true,
			say: "is not ready (/readyz: 500 Internal Server Error [-]etcd failed: reason withheld): not gated on the other kube-apiservers", events: "take release(true)"},
		{name: "others not listed", selfReady: true, listErr: errors.New("dial tcp 192.0.2.1:6443: connect: connection refused"), restarted: true,
			say: "[restart] kube-apiserver: cannot list the other kube-apiservers (dial tcp 192.0.2.1:6443: connect: connection refused): not gated on them", events: "take release(true)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldCert, newCert := newCert(t, 1001), newCert(t, 2002)
			n := newHTTPNode(t, oldCert)
			n.ready.Store(tc.selfReady)
			n.writeCert(t, "apiserver.crt", newCert)
			set, err := Load(n.manifestDir)
			if err != nil {
				t.Fatal(err)
			}
			manifest := filepath.Join(n.manifestDir, "kube-apiserver.yaml")
			before, _ := os.ReadFile(manifest)
			var peers []APIServerPeer
			var first *atomic.Bool
			for i, ready := range tc.peersReady {
				r, addr := readyPeer(t, ready)
				if i == 0 {
					first = r
				}
				peers = append(peers, APIServerPeer{Node: fmt.Sprintf("cp-%d", i+2), Address: addr})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			k := &kubelet{pids: map[int]int{}}
			k.watch(t, ctx, manifest, n.port, func() { n.cert.Store(&newCert); n.ready.Store(true) })
			clock := treetest.NewStepClock(time.Now())
			var events []string
			sleeps := 0
			var out bytes.Buffer
			results, err := Restart(ctx, set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt")}), Options{
				Timeout: 5 * time.Second, Poll: 20 * time.Millisecond, ReadyFor: 50 * time.Millisecond, Now: fixedNow, Out: &out,
				Clock: clock.Now, Sleep: func(ctx context.Context, d time.Duration) error {
					if sleeps++; tc.readyAfter > 0 && sleeps == tc.readyAfter {
						first.Store(true)
					}
					time.Sleep(5 * time.Millisecond) // the kubelet's goroutine runs on the real clock
					return clock.Sleep(ctx, d)
				},
				ListenerPID: k.listenerPID, APIServer: n.addr,
				Coordinate: func(context.Context, string) (func(bool), error) {
					events = append(events, "take")
					return func(ok bool) { events = append(events, fmt.Sprintf("release(%v)", ok)) }, nil
				},
				APIServers: &APIServers{Wait: time.Minute, Poll: 5 * time.Second, Others: func(context.Context) ([]APIServerPeer, error) {
					return append(peers, APIServerPeer{Node: "cp-1", Address: n.addr}), tc.listErr // this node's own is left out
				}}})
			t.Logf("output:\n%s", out.String())
			after, _ := os.ReadFile(manifest)
			if restarted := !bytes.Equal(before, after); restarted != tc.restarted || (err == nil) != tc.restarted {
				t.Fatalf("manifest changed %v, err %v; want restarted %v", restarted, err, tc.restarted)
			}
			if tc.restarted && results[0].Status != ServingNew {
				t.Errorf("status %s, want %s", results[0].Status, ServingNew)
			}
			if got := out.String() + fmt.Sprint(err); !strings.Contains(got, tc.say) {
				t.Errorf("output and error do not say %q", tc.say)
			}
			if got := strings.Join(events, " "); got != tc.events {
				t.Errorf("Lease events %q, want %q", got, tc.events)
			}
			if !tc.restarted && !strings.Contains(err.Error(), "(waited 1m0s): bring one back, then run certctl again") {
				t.Errorf("error %q does not say how long it waited and what to do", err)
			}
		})
	}
}

// TestRestartEtcdGatedOnOtherAPIServers: etcd's restart takes this node's
// kube-apiserver down with it (kubeadm's uses its own node's member
// alone), so on a node with a kube-apiserver it is gated as that one's
// restart is: not made while no other kube-apiserver is ready; made when
// one is, or on a node without a kube-apiserver (Options.APIServer "").
func TestRestartEtcdGatedOnOtherAPIServers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		peerReady bool
		apiServer bool
		restarted bool
	}{
		{"no other ready", false, true, false},
		{"another ready", true, true, true},
		{"no kube-apiserver on the node", false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newHTTPNode(t, newCert(t, 1001))
			n.ready.Store(true)
			set, err := Load(n.manifestDir)
			if err != nil {
				t.Fatal(err)
			}
			affected := set.Affected([]string{"/etc/kubernetes/pki/etcd/ca.crt"})
			manifest := filepath.Join(n.manifestDir, "etcd.yaml")
			before, _ := os.ReadFile(manifest)
			_, addr := readyPeer(t, tc.peerReady)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			k := &kubelet{pids: map[int]int{}}
			k.watch(t, ctx, manifest, 2379, nil)
			clock := treetest.NewStepClock(time.Now())
			var out bytes.Buffer
			o := Options{Timeout: 5 * time.Second, Poll: 20 * time.Millisecond, ReadyFor: 50 * time.Millisecond, Now: fixedNow, Out: &out,
				Clock: clock.Now, Sleep: func(ctx context.Context, d time.Duration) error {
					time.Sleep(5 * time.Millisecond)
					return clock.Sleep(ctx, d)
				},
				ListenerPID: k.listenerPID,
				Coordinate:  func(context.Context, string) (func(bool), error) { return func(bool) {}, nil },
				APIServers: &APIServers{Wait: time.Minute, Others: func(context.Context) ([]APIServerPeer, error) {
					return []APIServerPeer{{Node: "cp-2", Address: addr}}, nil
				}}}
			if tc.apiServer {
				o.APIServer = n.addr
			}
			_, err = Restart(ctx, affected, o)
			t.Logf("output:\n%s", out.String())
			after, _ := os.ReadFile(manifest)
			if restarted := !bytes.Equal(before, after); restarted != tc.restarted || (err == nil) != tc.restarted {
				t.Fatalf("etcd's manifest changed %v, err %v; want restarted %v", restarted, err, tc.restarted)
			}
			if !tc.restarted && !strings.Contains(err.Error(), "restart etcd: not restarted, as no kube-apiserver would be ready: the other ones are not: cp-2 (") {
				t.Errorf("err %v", err)
			}
		})
	}
}
