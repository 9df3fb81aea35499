package renew

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/refused"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/manifests/staticpods"
)

// TestRenewEtcdRefusedWithoutQuorum: `renew etcd-server
// --restart-control-plane` on cp-1 of three members, with cp-2's etcd
// down: the run takes etcd's Lease, then asks cp-1's member for the
// member list and the others for /health with the node's etcd CA and
// healthcheck client, waits the Lease's wait (Restart.LeaseWait) by the
// run's clock, and does not restart etcd: the run fails naming cp-2, the
// manifest is unchanged, the restart stays owed, and the Lease is freed
// (nothing restarted) rather than left to expire as a failed restart's.
func TestRenewEtcdRefusedWithoutQuorum(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	served, err := tls.LoadX509KeyPair(n.Path("pki/etcd/server.crt"), n.Path("pki/etcd/server.key"))
	if err != nil {
		t.Fatal(err)
	}
	member := func(h http.HandlerFunc) *httptest.Server {
		s := httptest.NewUnstartedServer(h)
		s.TLS = &tls.Config{Certificates: []tls.Certificate{served}}
		s.StartTLS()
		t.Cleanup(s.Close)
		return s
	}
	healthy := func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"health":"true"}`) }
	cp2URL := "https://" + refused.Addr(t) // down
	cp3 := member(healthy)
	var cp1 *httptest.Server
	cp1 = member(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v3/cluster/member/list" {
			healthy(w, r)
			return
		}
		if len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no client certificate", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"header":{"member_id":"1"},"members":[{"ID":"1","name":"cp-1","clientURLs":[%q]},{"ID":"2","name":"cp-2","clientURLs":[%q]},{"ID":"3","name":"cp-3","clientURLs":[%q]}]}`,
			cp1.URL, cp2URL, cp3.URL)
	})
	cp1.TLS.ClientAuth = tls.RequestClientCert
	manifests := n.Path("manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := `apiVersion: v1
kind: Pod
metadata:
  labels: {component: etcd, tier: control-plane}
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --name=cp-1
    - --listen-client-urls=` + cp1.URL + `
    - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    image: registry.k8s.io/etcd:3.6.5-0
    name: etcd
    volumeMounts:
    - {mountPath: /etc/kubernetes/pki/etcd, name: etcd-certs}
  hostNetwork: true
  volumes:
  - hostPath: {path: ` + n.Path("pki/etcd") + `, type: DirectoryOrCreate}
    name: etcd-certs
`
	if err := os.WriteFile(n.Path("manifests/etcd.yaml"), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := treetest.NewStepClock(pkitest.Made.Add(time.Hour))
	var out bytes.Buffer
	client := leaseClient()
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"etcd-server"},
		Restart: Restart{Enabled: true, ManifestDir: manifests, Timeout: time.Minute, Client: client, LeaseWait: 4 * time.Minute},
		Now:     clk.Now, Sleep: clk.Sleep, Out: &out, ErrOut: &out}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := clk.Now()
	err = Run(ctx, o)
	t.Logf("%v\n%s", err, out.String())
	if err == nil {
		t.Fatal("the run restarted etcd with cp-2's member down")
	}
	for _, w := range []string{"etcd would lose its quorum", "cp-2 (" + cp2URL, "bring cp-2's etcd back", "waited 4m0s"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q", w)
		}
	}
	if waited := clk.Now().Sub(start); waited < 4*time.Minute || waited > 5*time.Minute {
		t.Errorf("waited %s by the run's clock, want Restart.LeaseWait's 4m0s", waited)
	}
	if data, _ := os.ReadFile(n.Path("manifests/etcd.yaml")); string(data) != manifest {
		t.Error("etcd's manifest changed: the restart was not refused before it")
	}
	path, _ := staticpods.PendingPath(n.CertDir())
	owed, err := staticpods.LoadPending(path)
	if err != nil || owed.Get("etcd") == nil {
		t.Errorf("etcd's restart is not owed (%v)", err)
	}
	lease, err := client.CoordinationV1().Leases("kube-system").Get(ctx, RestartLeasePrefix+"etcd", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity != nil || lease.Annotations[leaseFailedAnnotation] != "" {
		t.Errorf("etcd's Lease %+v (%v), want it freed: nothing was restarted", lease, err)
	}
}
