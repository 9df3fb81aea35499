package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/renew"
)

// servingEndpoint is where a node serves one of its certificate files.
type servingEndpoint struct {
	node *testcluster.Cluster
	name string
	addr string
	file string // in the node's PKI folder
}

// tls returns a client config that verifies e's certificate with the CA that issued it and, for
// etcd (which asks for one), presents etcd/healthcheck-client.
func (e servingEndpoint) tls(t *testing.T) *tls.Config {
	if strings.HasPrefix(e.file, "etcd/") {
		return clientTLS(t, e.node, "etcd/ca.crt", "etcd/healthcheck-client")
	}
	return clientTLS(t, e.node, "ca.crt", "")
}

// TestClusterRestartsOneAtATime: the three nodes renew their apiserver certificate with
// --restart-control-plane at the same moment. Their restarts take the Lease
// kube-system/certctl-restart-kube-apiserver one after the other, each kube-apiserver serving its
// new certificate before the next node restarts its own: polled every 50 ms, at least two
// kube-apiservers answer /readyz at every instant (issue 16 item 3).
func TestClusterRestartsOneAtATime(t *testing.T) {
	h := testcluster.StartHA(t, testcluster.Options{Nodes: 3, Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 8*time.Minute)
	clients := make([]*http.Client, 3)
	apis := make([]kubernetes.Interface, 3)
	for i, c := range h.Nodes {
		var err error
		if clients[i], err = c.HTTPClient("admin.conf"); err != nil {
			t.Fatal(err)
		}
		clients[i].Timeout = 2 * time.Second
		if apis[i], err = c.AdminClient(); err != nil {
			t.Fatal(err)
		}
	}

	// The observers: /readyz of each apiserver, and the Lease's holder, every 50 ms.
	var (
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		mu      sync.Mutex
		fewest  = 3
		worst   string
		holders []string
	)
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			up := make([]bool, 3)
			var pwg sync.WaitGroup
			for i, c := range h.Nodes {
				pwg.Go(func() { up[i] = get(clients[i], c.URL(testcluster.APIServer)+"/readyz") == nil })
			}
			pwg.Wait()
			n := 0
			for _, u := range up {
				if u {
					n++
				}
			}
			holder := ""
			for i := range apis {
				if !up[i] {
					continue
				}
				lctx, cancel := context.WithTimeout(ctx, time.Second)
				l, err := apis[i].CoordinationV1().Leases("kube-system").Get(lctx, renew.RestartLeasePrefix+testcluster.APIServer, metav1.GetOptions{})
				cancel()
				if err == nil {
					if l.Spec.HolderIdentity != nil {
						holder = *l.Spec.HolderIdentity
					}
					break
				}
			}
			mu.Lock()
			if n < fewest {
				fewest, worst = n, fmt.Sprintf("%s: ready %v", time.Now().Format("15:04:05.000"), up)
			}
			if holder != "" && (len(holders) == 0 || holders[len(holders)-1] != holder) {
				holders = append(holders, holder)
			}
			mu.Unlock()
		}
	})

	type result struct {
		out  string
		err  error
		pid0 int
	}
	results := make([]result, 3)
	var rwg sync.WaitGroup
	// Each node's manifests as kubeadm writes them, with the flags the harness runs its
	// components with (internal/testcluster), so that certctl restarts kube-apiserver for every
	// certificate it reads; startKubelet restarts what certctl annotates.
	if err := h.WriteManifests(); err != nil {
		t.Fatal(err)
	}
	for i, c := range h.Nodes {
		dir := c.ManifestDir()
		startKubelet(t, ctx, c, dir)
		results[i].pid0 = c.PID(testcluster.APIServer)
		rwg.Go(func() {
			cmd := exec.CommandContext(ctx, signerCertctl(t), "renew", "apiserver", "--restart-control-plane", "--manifest-dir", dir,
				"--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(), "--restart-timeout", "2m")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			results[i].err = cmd.Run()
			results[i].out = out.String()
		})
	}
	rwg.Wait()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	for i, r := range results {
		t.Logf("cp-%d: certctl renew apiserver --restart-control-plane: %v\n%s", i+1, r.err, r.out)
		if r.err != nil {
			t.Errorf("cp-%d: renew failed: %v", i+1, r.err)
		}
		if h.Node(i+1).PID(testcluster.APIServer) == r.pid0 {
			t.Errorf("cp-%d: kube-apiserver was not restarted", i+1)
		}
		if !strings.Contains(r.out, "took the Lease kube-system/certctl-restart-kube-apiserver") {
			t.Errorf("cp-%d did not take the Lease", i+1)
		}
	}
	waited := 0
	for _, r := range results {
		if strings.Contains(r.out, "[restart] kube-apiserver: waiting for ") && strings.Contains(r.out, "which restarts its kube-apiserver") {
			waited++
		}
	}
	t.Logf("Lease holders in turn: %q; fewest kube-apiservers ready at once: %d (%s)", holders, fewest, worst)
	if waited < 2 {
		t.Errorf("%d nodes said they waited for another node's restart, want 2", waited)
	}
	if len(holders) != 3 {
		t.Errorf("Lease holders %q, want 3 in turn", holders)
	}
	if fewest < 2 {
		t.Errorf("only %d kube-apiserver(s) answered /readyz at %s; want at least 2 at every instant", fewest, worst)
	}
	// Each node serves its new certificate.
	for _, c := range h.Nodes {
		readyz(t, ctx, c)
	}
}
