package clusterview

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
)

// blackHole is an address that takes TCP connections and never answers,
// as a node that hangs (etcd stopped with SIGSTOP, a full backlog) or a
// firewall that lets the SYN through and drops the rest: every handshake
// and request to it waits for its timeout.
func blackHole(t *testing.T, ip string) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0") // never accepted: the kernel completes the TCP handshake
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// TestCheckBoundedWhenNodesHang: five control-plane nodes whose
// kube-apiserver and etcd take connections and never answer. A fleet-wide
// cron must not hang: the report comes within a bound that does not grow
// with the nodes, each row says it got no answer within the timeout.
// Before, etcd's member list asked each client URL in turn (one timeout
// each: 6 here, 30 s with the default), then the handshakes took one
// timeout per 8 endpoints.
func TestCheckBoundedWhenNodesHang(t *testing.T) {
	f := newFixture(t)
	var objs []runtime.Object
	for i := 1; i <= 5; i++ {
		name, ip := fmt.Sprintf("cp-%d", i), fmt.Sprintf("127.0.0.%d", i)
		objs = append(objs, cpNode(name, ip), mirrorPod("kube-apiserver", name, APIServerEndpointAnnotation, blackHole(t, ip)),
			mirrorPod("etcd", name, EtcdClientURLsAnnotation, "https://"+blackHole(t, ip)))
	}
	const timeout = 500 * time.Millisecond
	o := Options{Client: fake.NewClientset(objs...), CertDir: f.node.CertDir(), Now: now, Timeout: timeout,
		EtcdEndpoints: []string{"https://" + blackHole(t, "127.0.0.1")}}
	start := time.Now()
	info, err := Check(context.Background(), o)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	// The member list (one timeout, whatever the number of URLs), then the
	// handshakes (one timeout), plus slack for a loaded machine.
	if took > 4*timeout {
		t.Errorf("took %v with every node hanging, want at most %v: the member list and the handshakes must not wait one timeout per node", took, 4*timeout)
	}
	for _, n := range info.Nodes {
		for _, e := range n.Endpoints {
			if len(e.Problems) != 1 || e.Problems[0].Type != Unreachable {
				t.Errorf("%s %s: problems %+v, want unreachable", n.Name, e.Component, e.Problems)
				continue
			}
			if msg := e.Problems[0].Message; !strings.HasSuffix(e.Address, ":2380") && !strings.Contains(msg, "no answer within "+timeout.String()) {
				t.Errorf("%s %s: %q does not say it got no answer within %v", n.Name, e.Component, msg, timeout)
			}
		}
	}
}

// TestCheckAPIServerHangs: the kubeconfig's API server takes connections
// and never answers. Its reads together are bounded (three timeouts), the
// nodes come from etcd's member list, and a warning says in so many words
// that the API server gave no answer within that time, not only five
// "context deadline exceeded".
func TestCheckAPIServerHangs(t *testing.T) {
	f := newFixture(t)
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: "https://" + blackHole(t, "127.0.0.1"), TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	o := Options{Client: cs, CertDir: f.node.CertDir(), Now: now, Timeout: timeout, EtcdEndpoints: []string{"https://" + f.etcd}}
	start := time.Now()
	info, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 8*timeout {
		t.Errorf("took %v, want at most %v", took, 8*timeout)
	}
	if w := strings.Join(info.Warnings, "\n"); !strings.Contains(w, "the API server gave no answer within "+(3*timeout).String()) {
		t.Errorf("warnings do not say the API server did not answer:\n%s", w)
	}
}
