package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

// TestSigningThroughput compares signing rates on one API server in one run: N approved CSRs
// (CERTCTL_SIGNER_BENCH_N, default 1000) are queued while no signer runs, then the signer is
// started and the time until the last one is issued is measured: first kube-controller-manager's
// csrsigning controller (kubernetes.io/kube-apiserver-client, the harness's kubeadm-style flags),
// then `certctl signer run` (certctl.io/kube-apiserver-client, default flags) while
// kube-controller-manager keeps running. The rate counts from the signer's start (process start
// to last certificate, start-up included) and, separately, from its first certificate to its last.
// certctl must sign at least as many per second as kube-controller-manager. `make bench` prints
// both rates (hack/bench.d/signer.sh).
func TestSigningThroughput(t *testing.T) {
	n := 1000
	if s := os.Getenv("CERTCTL_SIGNER_BENCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("CERTCTL_SIGNER_BENCH_N=%q: want a positive number", s)
		}
	}
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 15*time.Minute)
	cfg, err := c.RESTConfig("admin.conf")
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := watchIssued(t, ctx, cs)
	if err := c.StopComponent(ctx, testcluster.ControllerManager); err != nil {
		t.Fatal(err)
	}

	queue(t, ctx, cs, "bench-kcm", n, certv1.KubeAPIServerClientSignerName, pki.Profile{CommonName: "bench-user"})
	start := time.Now()
	if err := c.StartComponent(ctx, testcluster.ControllerManager); err != nil {
		t.Fatal(err)
	}
	kcm := w.wait(t, ctx, "bench-kcm", n, start)

	admin := pki.Profile{CommonName: "kubernetes-admin", Organization: []string{pki.ClusterAdminsGroup}}
	queue(t, ctx, cs, "bench-certctl", n, signer.KubeAPIServerClient, admin)
	signerCertctl(t) // built before the clock starts when $CERTCTL_BIN is unset
	start = time.Now()
	signerArgs := append([]string{"--kubeconfig", c.Kubeconfig("admin.conf"), "--cert-dir", c.PKIDir()}, c.PKI().Flags()...)
	p, _ := startSignerRun(t, ctx, t.TempDir(), signerArgs...)
	certctl := w.wait(t, ctx, "bench-certctl", n, start)

	// With CERTCTL_SIGNER_BENCH_UNTHROTTLED=1 (make bench), a third batch shows what the signer
	// does without its client-side rate limit (--kube-api-qps 100, --kube-api-burst 200) and with
	// 32 workers instead of 8: then the API server is the limit.
	var free timing
	unthrottled := os.Getenv("CERTCTL_SIGNER_BENCH_UNTHROTTLED") == "1"
	if unthrottled {
		p.stop(t)
		queue(t, ctx, cs, "bench-free", n, signer.KubeAPIServerClient, admin)
		start = time.Now()
		startSignerRun(t, ctx, t.TempDir(), append(signerArgs, "--kube-api-qps", "5000", "--kube-api-burst", "10000", "--workers", "32")...)
		free = w.wait(t, ctx, "bench-free", n, start)
	}

	t.Logf("signing rate, %d approved CSRs queued on one kube-apiserver:", n)
	t.Logf("  kube-controller-manager csrsigning: %7.1f CSR/s from start (%v), %7.1f CSR/s first to last certificate", kcm.fromStart(n), kcm.total().Round(time.Millisecond), kcm.steady(n))
	t.Logf("  certctl signer run:                 %7.1f CSR/s from start (%v), %7.1f CSR/s first to last certificate", certctl.fromStart(n), certctl.total().Round(time.Millisecond), certctl.steady(n))
	if unthrottled {
		t.Logf("  certctl signer run --kube-api-qps 5000 --workers 32: %7.1f CSR/s from start (%v), %7.1f CSR/s first to last certificate", free.fromStart(n), free.total().Round(time.Millisecond), free.steady(n))
	}
	if certctl.fromStart(n) < kcm.fromStart(n) {
		t.Errorf("certctl signer run signs %.1f CSR/s, fewer than kube-controller-manager's %.1f", certctl.fromStart(n), kcm.fromStart(n))
	}
}

type timing struct{ start, first, last time.Time }

func (tm timing) total() time.Duration { return tm.last.Sub(tm.start) }
func (tm timing) fromStart(n int) float64 {
	return float64(n) / tm.total().Seconds()
}
func (tm timing) steady(n int) float64 {
	if n < 2 || !tm.last.After(tm.first) {
		return 0
	}
	return float64(n-1) / tm.last.Sub(tm.first).Seconds()
}

// issuedWatch records when each CSR got its certificate, from an informer.
type issuedWatch struct {
	mu     sync.Mutex
	issued map[string]time.Time
}

func watchIssued(t *testing.T, ctx context.Context, cs kubernetes.Interface) *issuedWatch {
	t.Helper()
	w := &issuedWatch{issued: map[string]time.Time{}}
	f := informers.NewSharedInformerFactory(cs, 0)
	inf := f.Certificates().V1().CertificateSigningRequests().Informer()
	record := func(obj any) {
		r, ok := obj.(*certv1.CertificateSigningRequest)
		if !ok || len(r.Status.Certificate) == 0 {
			return
		}
		now := time.Now()
		w.mu.Lock()
		if _, seen := w.issued[r.Name]; !seen {
			w.issued[r.Name] = now
		}
		w.mu.Unlock()
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: record, UpdateFunc: func(_, o any) { record(o) }}); err != nil {
		t.Fatal(err)
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("CSR informer did not sync")
	}
	return w
}

// wait returns when n CSRs named PREFIX-* are issued.
func (w *issuedWatch) wait(t *testing.T, ctx context.Context, prefix string, n int, start time.Time) timing {
	t.Helper()
	for {
		tm := timing{start: start}
		count := 0
		w.mu.Lock()
		for name, at := range w.issued {
			if len(name) > len(prefix) && name[:len(prefix)+1] == prefix+"-" {
				count++
				if tm.first.IsZero() || at.Before(tm.first) {
					tm.first = at
				}
				if at.After(tm.last) {
					tm.last = at
				}
			}
		}
		w.mu.Unlock()
		if count == n {
			return tm
		}
		sleepOrFail(t, ctx, 20*time.Millisecond, fmt.Sprintf("%d %s CSRs issued (%d so far)", n, prefix, count))
	}
}

// queue creates and approves n CSRs named PREFIX-I for signerName, 16 at a time.
func queue(t *testing.T, ctx context.Context, cs kubernetes.Interface, prefix string, n int, signerName string, p pki.Profile) {
	t.Helper()
	start := time.Now()
	key := newKey(t)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				r := createCSR(t, ctx, cs, fmt.Sprintf("%s-%04d", prefix, i), signerName, p, key, clientUsages)
				approve(t, ctx, cs, r)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	t.Logf("queued %d approved %s CSRs for %s in %v", n, prefix, signerName, time.Since(start).Round(time.Millisecond))
}
