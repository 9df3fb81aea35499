package renew

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/refused"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// leaseClient is a fake clientset that, as the API server does, refuses
// a Lease update whose resourceVersion is not the stored one.
func leaseClient() *fake.Clientset {
	cs := fake.NewClientset()
	gvr := schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}
	cs.PrependReactor("create", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		a.(k8stesting.CreateAction).GetObject().(*coordv1.Lease).ResourceVersion = "1"
		return false, nil, nil
	})
	cs.PrependReactor("update", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		l := a.(k8stesting.UpdateAction).GetObject().(*coordv1.Lease)
		cur, err := cs.Tracker().Get(gvr, l.Namespace, l.Name)
		if err != nil {
			return true, nil, err
		}
		rv := cur.(*coordv1.Lease).ResourceVersion
		if l.ResourceVersion != rv {
			return true, nil, apierrors.NewConflict(gvr.GroupResource(), l.Name, nil)
		}
		n, _ := strconv.Atoi(rv)
		l.ResourceVersion = strconv.Itoa(n + 1)
		return false, nil, nil
	})
	return cs
}

func testLease(cs *fake.Clientset, id string, out *bytes.Buffer) *restartLease {
	return &restartLease{client: cs, namespace: "kube-system", identity: id, duration: 2 * time.Second, wait: 10 * time.Second,
		poll: 5 * time.Millisecond, every: 20 * time.Millisecond, now: time.Now, out: out}
}

// TestRestartLeaseOneAtATime: three nodes restarting the same component at
// once hold its Lease one after the other, never two at a time, and each
// waits with progress lines naming the holder.
func TestRestartLeaseOneAtATime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs := leaseClient()
	var holding, most atomic.Int32
	var order []string
	var mu sync.Mutex
	outs := make([]*bytes.Buffer, 3)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 3 {
		outs[i] = &bytes.Buffer{}
		l := testLease(cs, "cp-"+strconv.Itoa(i+1), outs[i])
		wg.Go(func() {
			<-start
			release, err := l.acquire(ctx, "kube-apiserver", "kube-apiserver")
			if err != nil {
				t.Error(err)
				return
			}
			n := holding.Add(1)
			if n > most.Load() {
				most.Store(n)
			}
			mu.Lock()
			order = append(order, l.identity)
			mu.Unlock()
			time.Sleep(200 * time.Millisecond) // the restart
			holding.Add(-1)
			release(true)
		})
	}
	close(start)
	wg.Wait()
	if most.Load() != 1 || len(order) != 3 {
		t.Fatalf("at most %d holders at a time, %d restarts (%v); want one at a time, 3", most.Load(), len(order), order)
	}
	waited := 0
	for _, o := range outs {
		if strings.Contains(o.String(), "waiting for cp-") {
			waited++
		}
	}
	if waited < 2 {
		t.Errorf("%d nodes said whom they waited for, want 2:\n%s%s%s", waited, outs[0], outs[1], outs[2])
	}
	l, err := cs.CoordinationV1().Leases("kube-system").Get(ctx, "certctl-restart-kube-apiserver", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity != nil || *l.Spec.LeaseTransitions != 3 {
		t.Errorf("lease after the restarts: holder %v, transitions %d; want free, 3", l.Spec.HolderIdentity, *l.Spec.LeaseTransitions)
	}
}

// TestRestartLeaseFailedRestart: a holder whose restart failed leaves the
// Lease to expire; the next node waits until then and takes it over. A
// Lease of another component does not make it wait.
func TestRestartLeaseFailedRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs := leaseClient()
	var out bytes.Buffer
	a, b := testLease(cs, "cp-1", &out), testLease(cs, "cp-2", &out)
	a.duration = time.Second
	release, err := a.acquire(ctx, "etcd", "etcd")
	if err != nil {
		t.Fatal(err)
	}
	releaseOther, err := b.acquire(ctx, "kube-apiserver", "kube-apiserver")
	if err != nil {
		t.Fatal(err)
	}
	releaseOther(true)
	release(false)
	left, err := cs.CoordinationV1().Leases("kube-system").Get(ctx, "certctl-restart-etcd", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, until := holderOf(left)
	if _, err := b.acquire(ctx, "etcd", "etcd"); err != nil {
		t.Fatal(err)
	}
	if now := time.Now(); now.Before(until) {
		t.Errorf("cp-2 took etcd's Lease at %v, before it expired at %v", now, until)
	}
	if !strings.Contains(out.String(), "left to expire") {
		t.Errorf("output does not say the Lease is left to expire:\n%s", out.String())
	}
	c := testLease(cs, "cp-3", &out)
	c.wait = 100 * time.Millisecond
	if _, err := c.acquire(ctx, "etcd", "etcd"); err == nil || !strings.Contains(err.Error(), "the restart stays owed") {
		t.Errorf("waiting past --lease-wait: %v, want an error saying the restart stays owed", err)
	}
}

// TestRestartLeaseRenewed: a holder renews its Lease while its restart
// lasts longer than the Lease's duration, so that no one takes it over.
func TestRestartLeaseRenewed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs := leaseClient()
	var out bytes.Buffer
	a, b := testLease(cs, "cp-1", &out), testLease(cs, "cp-2", &out)
	a.duration = time.Second
	release, err := a.acquire(ctx, "etcd", "etcd")
	if err != nil {
		t.Fatal(err)
	}
	b.wait = 2500 * time.Millisecond
	if _, err := b.acquire(ctx, "etcd", "etcd"); err == nil {
		t.Fatalf("cp-2 took a Lease cp-1 renews")
	}
	release(true)
	if _, err := b.acquire(ctx, "etcd", "etcd"); err != nil {
		t.Fatal(err)
	}
}

// TestRestartGates: with the API server reachable the restarts take the
// Lease; when it is not, the node restarts alone and says so.
func TestRestartGates(t *testing.T) {
	down := fake.NewClientset()
	down.PrependReactor("list", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("dial tcp 192.0.2.1:6443: connect: connection refused")
	})
	for _, tc := range []struct {
		name   string
		o      Restart
		taken  bool
		output string
	}{
		{"reachable", Restart{Client: leaseClient()}, true, ""},
		{"unreachable", Restart{Client: down}, false, "[restart] This node restarts alone, without waiting for the other control-plane nodes' restarts: the API server cannot be reached (dial tcp 192.0.2.1:6443: connect: connection refused)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			cl := config.Default()
			cl.NodeName = "cp-1"
			r := &run{o: Options{Cluster: &cl, Restart: tc.o, Now: time.Now, Rand: rand.Reader}}
			coord := r.coordinator(context.Background(), &out)
			if (coord != nil) != tc.taken || out.String() != tc.output {
				t.Fatalf("coordinator %v, output %q; want %v, %q", coord != nil, out.String(), tc.taken, tc.output)
			}
			if coord == nil {
				return
			}
			release, err := coord(context.Background(), "etcd")
			if err != nil {
				t.Fatal(err)
			}
			l, err := tc.o.Client.CoordinationV1().Leases("kube-system").Get(context.Background(), "certctl-restart-etcd", metav1.GetOptions{})
			if err != nil || !strings.HasPrefix(*l.Spec.HolderIdentity, "cp-1_") || *l.Spec.LeaseDurationSeconds != 60 {
				t.Errorf("lease %+v, %v; want held by cp-1_..., for 60s", l, err)
			}
			release(true)
		})
	}
}

// TestCoordinatorRefused: an API server that answers but refuses the
// Leases (401, 403) does not make the node restart alone, as it did: the
// other nodes may be restarting under their Leases. Every restart fails
// with what to do, takes no Lease and stays owed.
func TestCoordinatorRefused(t *testing.T) {
	gr := schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"403", apierrors.NewForbidden(gr, "", errors.New("no")), "to the user of the API client (leases.coordination.k8s.io is forbidden: no): the restart stays owed and the next run retries it; give that user get, list, create and update on leases in kube-system"},
		{"401", apierrors.NewUnauthorized("Unauthorized"), "renew them (certctl renew admin.conf for the node's admin.conf)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset()
			client.PrependReactor("*", "leases", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tc.err })
			var out bytes.Buffer
			coord, _ := RestartGates(t.Context(), Coordination{Client: client, NodeName: "cp-1", Now: time.Now, Rand: rand.Reader}, &out)
			if coord == nil || out.Len() != 0 {
				t.Fatalf("the node restarts alone: %q", out.String())
			}
			release, err := coord(t.Context(), "etcd")
			if err == nil || release != nil || !strings.Contains(err.Error(), "the restart stays owed") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("restart: %v; want an error with %q", err, tc.want)
			}
			if creates := slices.ContainsFunc(client.Actions(), func(a k8stesting.Action) bool { return a.GetVerb() == "create" }); creates {
				t.Errorf("a Lease was created: %v", client.Actions())
			}
		})
	}
}

// TestCoordinatorEtcdHoldsAPIServer: on a node with a kube-apiserver
// manifest, the restart of etcd also holds kube-apiserver's Lease (that
// kube-apiserver uses this etcd member only), taken after etcd's, and
// releases both; kube-apiserver's own restart takes only its Lease. On a
// node without one, etcd takes only its own.
func TestCoordinatorEtcdHoldsAPIServer(t *testing.T) {
	withAPI := t.TempDir()
	manifest := "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver, namespace: kube-system}\nspec:\n  containers:\n  - {name: kube-apiserver, image: registry.k8s.io/kube-apiserver:v1.37.1, command: [kube-apiserver, --secure-port=6443]}\n"
	if err := os.WriteFile(filepath.Join(withAPI, "kube-apiserver.yaml"), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		dir       string
		component string
		held      []string
	}{
		{"etcd beside kube-apiserver", withAPI, "etcd", []string{"etcd", "kube-apiserver"}},
		{"kube-apiserver", withAPI, "kube-apiserver", []string{"kube-apiserver"}},
		{"etcd alone", t.TempDir(), "etcd", []string{"etcd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := staticpods.Load(tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			cs := leaseClient()
			var out bytes.Buffer
			cl := config.Default()
			cl.NodeName = "cp-1"
			r := &run{o: Options{Cluster: &cl, Restart: Restart{Client: cs}, Now: time.Now, Rand: rand.Reader}, set: set}
			release, err := r.coordinator(context.Background(), &out)(context.Background(), tc.component)
			if err != nil {
				t.Fatal(err)
			}
			holders := func() []string {
				var held []string
				for _, c := range []string{"etcd", "kube-apiserver"} {
					l, err := cs.CoordinationV1().Leases("kube-system").Get(context.Background(), RestartLeasePrefix+c, metav1.GetOptions{})
					if err == nil && l.Spec.HolderIdentity != nil && strings.HasPrefix(*l.Spec.HolderIdentity, "cp-1_") {
						held = append(held, c)
					}
				}
				return held
			}
			if got := holders(); !slices.Equal(got, tc.held) {
				t.Errorf("held %q, want %q\n%s", got, tc.held, out.String())
			}
			release(true)
			if got := holders(); len(got) != 0 {
				t.Errorf("still held after the release: %q", got)
			}
			too := "[restart] etcd: took the Lease kube-system/certctl-restart-kube-apiserver too: this node's kube-apiserver is not ready while its etcd restarts, so no other node restarts its kube-apiserver until it is ready again\n"
			if strings.Contains(out.String(), too) != (len(tc.held) == 2) {
				t.Errorf("output:\n%s", out.String())
			}
		})
	}
}

// TestCoordinatorKubeconfig: the restarts take their Lease with the
// command's --kubeconfig when it has one, as its other API calls do
// (internal/kubeclient), and fall back to KUBECONFIG-DIR/admin.conf
// without it.
func TestCoordinatorKubeconfig(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases" {
			http.NotFound(w, r)
			return
		}
		asked.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"kind":"LeaseList","apiVersion":"coordination.k8s.io/v1","metadata":{},"items":[]}`)
	}))
	defer srv.Close()
	closed := "https://" + refused.Addr(t)

	n := pkitest.NewNode(t, nil)
	v := pki.NewValidity(time.Now(), time.Hour, time.Hour)
	dir := t.TempDir()
	if err := os.Rename(n.APIKubeconfig(t, closed, v), filepath.Join(dir, "admin.conf")); err != nil {
		t.Fatal(err)
	}
	given := n.APIKubeconfig(t, srv.URL, v)
	// An API server that answers with a certificate of another CA than
	// the kubeconfig's: it is reached, and its certificate does not verify.
	other := httptest.NewTLSServer(http.NotFoundHandler())
	defer other.Close()
	otherCA := n.APIKubeconfig(t, other.URL, v)
	for _, tc := range []struct {
		name       string
		kubeconfig string
		taken      bool
		asked      int32
		output     string
	}{
		{"--kubeconfig", given, true, 1, ""},
		{"admin.conf", "", false, 0, "the API server cannot be reached (" + "Get \"" + closed},
		{"certificate does not verify", otherCA, false, 0, "the API server's certificate does not verify, so the Leases cannot be asked for (Get \"" + other.URL + "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?limit=1\": tls: failed to verify certificate: x509: certificate signed by unknown authority)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked.Store(0)
			var out bytes.Buffer
			coord, _ := RestartGates(context.Background(), Coordination{Kubeconfig: tc.kubeconfig, KubeconfigDir: dir, NodeName: "cp-1"}, &out)
			if (coord != nil) != tc.taken || asked.Load() != tc.asked || !strings.Contains(out.String(), tc.output) {
				t.Fatalf("coordinator %v, %d requests to --kubeconfig's server, output %q; want %v, %d, %q", coord != nil, asked.Load(), out.String(), tc.taken, tc.asked, tc.output)
			}
		})
	}
}
