package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
)

// TestHACluster starts three control-plane nodes, each on its own certctl PKI, checks that they
// form one cluster (etcd quorum, every apiserver ready, one leader each for kube-controller-manager
// and kube-scheduler), then restarts etcd on node 2 and kube-apiserver on node 3 as the kubelet
// would while a client asks the other apiservers every 50 ms: none of those requests may fail.
func TestHACluster(t *testing.T) {
	h := testcluster.StartHA(t, testcluster.Options{Nodes: 3})
	ctx := testCtx(t, 5*time.Minute)

	for _, c := range h.Nodes {
		if n := etcdMembers(t, ctx, c); n != 3 {
			t.Errorf("etcd on %s lists %d members, want 3", c.NodeName(), n)
		}
		readyz(t, ctx, c)
	}
	for _, lease := range []string{testcluster.ControllerManager, testcluster.Scheduler} {
		waitOneLeader(t, ctx, h, lease)
	}

	// The client: round-robin over the apiservers whose process is not restarted.
	var (
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		mu       sync.Mutex
		requests = map[string]int{}
		failures = map[string][]string{}
	)
	targets := h.Nodes[:2]
	clients := make([]*http.Client, len(targets))
	for i, c := range targets {
		var err error
		if clients[i], err = c.HTTPClient("admin.conf"); err != nil {
			t.Fatal(err)
		}
		clients[i].Timeout = 5 * time.Second
	}
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			c := targets[i%len(targets)]
			err := get(clients[i%len(targets)], c.URL(testcluster.APIServer)+"/api/v1/namespaces/kube-system")
			mu.Lock()
			requests[c.NodeName()]++
			if err != nil {
				failures[c.NodeName()] = append(failures[c.NodeName()], time.Now().Format("15:04:05.000")+" "+err.Error())
			}
			mu.Unlock()
		}
	})

	oldEtcd, oldAPI := h.Node(2).PID(testcluster.Etcd), h.Node(3).PID(testcluster.APIServer)
	start := time.Now()
	var restartErrs [2]error
	var rwg sync.WaitGroup
	rwg.Go(func() { restartErrs[0] = h.Node(2).Restart(ctx, testcluster.Etcd) })
	rwg.Go(func() { restartErrs[1] = h.Node(3).Restart(ctx, testcluster.APIServer) })
	rwg.Wait()
	time.Sleep(time.Second) // a few more requests after both are back
	close(stop)
	wg.Wait()
	t.Logf("restarted etcd on cp-2 and kube-apiserver on cp-3 in %v; requests %v", time.Since(start).Round(time.Millisecond), requests)
	for _, err := range restartErrs {
		if err != nil {
			t.Fatalf("restart: %v", err)
		}
	}
	if h.Node(2).PID(testcluster.Etcd) == oldEtcd || h.Node(3).PID(testcluster.APIServer) == oldAPI {
		t.Errorf("restart kept the old process")
	}
	for _, c := range targets {
		if requests[c.NodeName()] < 10 {
			t.Errorf("only %d requests to %s during the restarts", requests[c.NodeName()], c.NodeName())
		}
		if f := failures[c.NodeName()]; len(f) > 0 {
			t.Errorf("%d of %d requests to the kube-apiserver of %s failed while other nodes restarted:\n%s",
				len(f), requests[c.NodeName()], c.NodeName(), strings.Join(f, "\n"))
		}
	}
	for _, c := range h.Nodes {
		if n := etcdMembers(t, ctx, c); n != 3 {
			t.Errorf("after the restarts, etcd on %s lists %d members, want 3", c.NodeName(), n)
		}
		readyz(t, ctx, c)
	}
}

func get(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return nil
}

// etcdMembers checks the health of c's etcd and returns the number of members it lists.
func etcdMembers(t *testing.T, ctx context.Context, c *testcluster.Cluster) int {
	t.Helper()
	client, err := c.EtcdHTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	if err := get(client, c.URL(testcluster.Etcd)+"/health"); err != nil {
		t.Errorf("etcd on %s: %v", c.NodeName(), err)
	}
	var list struct {
		Members []struct {
			Name string `json:"name"`
		} `json:"members"`
	}
	etcdCall(t, ctx, client, c, "/v3/cluster/member/list", &list)
	return len(list.Members)
}

// etcdCall POSTs {} to path of c's etcd JSON gateway with client and
// decodes the answer into out.
func etcdCall(t *testing.T, ctx context.Context, client *http.Client, c *testcluster.Cluster, path string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL(testcluster.Etcd)+path, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("etcd %s on %s: %v", path, c.NodeName(), err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("etcd %s on %s: %v", path, c.NodeName(), err)
	}
}

// readyz checks that c's kube-apiserver answers /readyz to admin.conf.
func readyz(t *testing.T, ctx context.Context, c *testcluster.Cluster) {
	t.Helper()
	client, err := c.HTTPClient("admin.conf")
	if err != nil {
		t.Fatal(err)
	}
	if err := get(client, c.URL(testcluster.APIServer)+"/readyz"); err != nil {
		t.Errorf("kube-apiserver on %s: %v", c.NodeName(), err)
	}
}

// waitOneLeader waits until the Lease kube-system/NAME has a holder and a node's NAME logged that
// it acquired it, then checks that exactly one did.
func waitOneLeader(t *testing.T, ctx context.Context, h *testcluster.HA, name string) {
	t.Helper()
	cs, err := h.Node(1).AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		l, err := cs.CoordinationV1().Leases("kube-system").Get(ctx, name, metav1.GetOptions{})
		held := err == nil && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != ""
		var leaders []string
		for _, c := range h.Nodes {
			log, err := os.ReadFile(c.LogPath(name))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(log), `"Successfully acquired lease" lock="kube-system/`+name+`"`) {
				leaders = append(leaders, c.NodeName())
			}
		}
		if held && len(leaders) > 0 {
			if len(leaders) != 1 {
				t.Errorf("%s leaders: %q, want exactly one", name, leaders)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease kube-system/%s: no leader after 90s (lease error: %v)", name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
