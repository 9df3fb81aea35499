package carotate

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestNodeAloneRestartsWithoutLeases: a node rotated alone (--node-only,
// no Cluster) restarts without the restart Leases and the check of the
// other kube-apiservers, and says so, in the dry run too. It took the
// Leases through admin.conf's API server: 5 s lost a stage on one that
// accepts and does not answer, and one that answers 401 (a kube-apiserver
// that trusts the old CA alone, asked with a client certificate of the
// new) failed every restart, "renew admin.conf", with the restart that
// would fix it owed. Here admin.conf's API server answers 401: it is not
// asked, and kube-apiserver is restarted (and never comes back: nothing
// listens on its port).
func TestNodeAloneRestartsWithoutLeases(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401,"message":"Unauthorized"}`)
	}))
	defer srv.Close()
	n := pkitest.NewNode(t, nil)
	if err := os.Rename(n.APIKubeconfig(t, srv.URL, pki.NewValidity(pkitest.Made, 24*time.Hour, 24*time.Hour)), n.Path("admin.conf")); err != nil {
		t.Fatal(err)
	}
	manifestDir := n.Path("manifests")
	if err := os.Mkdir(manifestDir, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {component: kube-apiserver, tier: control-plane}\n  name: kube-apiserver\n  namespace: kube-system\nspec:\n  containers:\n  - command: [kube-apiserver, --bind-address=127.0.0.1, --secure-port=1, --client-ca-file=/etc/kubernetes/pki/ca.crt]\n    image: registry.k8s.io/kube-apiserver:v1.37.1\n    name: kube-apiserver\n    volumeMounts:\n    - {mountPath: /etc/kubernetes/pki, name: k8s-certs, readOnly: true}\n  hostNetwork: true\n  volumes:\n  - hostPath: {path: %s, type: DirectoryOrCreate}\n    name: k8s-certs\n", n.Cluster.CertificatesDir)
	if err := os.WriteFile(n.Path("manifests/kube-apiserver.yaml"), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := treetest.NewStepClock(pkitest.Made.Add(time.Hour))
	var out bytes.Buffer
	o := Options{KubeconfigDir: n.Dir, ManifestDir: manifestDir, Restart: true, RestartTimeout: 30 * time.Second,
		Now: clk.Now, Sleep: clk.Sleep, Out: &out, Warn: &out}
	o = o.WithSettings(&config.Cluster{CertificatesDir: n.Cluster.CertificatesDir, NodeName: "cp-1"}, false, "", "")
	k, err := kindOf("ca")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = o.restart(ctx, k, k.paths(o.CertDir), &Record{Stage: StageTrust})
	if err == nil || !strings.Contains(err.Error(), "kube-apiserver is not running: nothing listens on port 1") || !strings.Contains(out.String(), "[restart] kube-apiserver: set certctl.io/restartedAt=") {
		t.Errorf("restart: %v; want kube-apiserver restarted, and given up as it never comes back\n%s", err, out.String())
	}
	if asked.Load() != 0 {
		t.Errorf("%d requests to admin.conf's API server, want none\n%s", asked.Load(), out.String())
	}
	if want := "[restart] " + restartAloneNodeOnly + "\n"; !strings.HasPrefix(out.String(), want) {
		t.Errorf("output:\n%s\nwant it to start with %q", out.String(), want)
	}

	// The dry run of a stage says so.
	f := newFixture(t)
	out.Reset()
	o = f.options(func(o *Options) { o.DryRun, o.Restart, o.Out = true, true, &out })
	o = o.WithSettings(&config.Cluster{CertificatesDir: o.CertDir, NodeName: "cp-1"}, false, "", "")
	if _, err := Rotate(context.Background(), pki.FrontProxyCAName, o); err != nil {
		t.Fatal(err)
	}
	if want := "[dry-run]   restart kube-apiserver, kube-controller-manager (--restart-control-plane). " + restartAloneNodeOnly + "\n"; !strings.Contains(out.String(), want) {
		t.Errorf("dry run:\n%s\nwant %q", out.String(), want)
	}
}

// TestClusterDryRunSaysLeases: the dry run of a cluster's rotation with
// --restart-control-plane names the restart Leases of kube-system the real
// run takes (renew.RestartGates, one node at a time per component), as the
// dry run of a node alone says it restarts without them; it said nothing
// of the restarts. It takes no Lease.
func TestClusterDryRunSaysLeases(t *testing.T) {
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	out := a.rotate(t, "etcd-ca", func(o *Options, c *ClusterOptions) {
		o.DryRun, o.Restart = true, true
		*o = o.WithSettings(&config.Cluster{CertificatesDir: o.CertDir, NodeName: "cp-1"}, false, "", "")
	})
	want := "[dry-run]   restart etcd, kube-apiserver (--restart-control-plane). Each restart would first wait for and take its component's Lease in kube-system (certctl-restart-etcd, certctl-restart-kube-apiserver), so that one control-plane node at a time restarts it; etcd's also takes kube-apiserver's on a node that runs one. This dry run reads and takes no Lease\n"
	if !strings.Contains(out, want) {
		t.Errorf("dry run:\n%s\nwant %q", out, want)
	}
	if strings.Contains(out, restartAloneNodeOnly) {
		t.Errorf("the dry run of a cluster's rotation says the node restarts alone:\n%s", out)
	}
	for _, act := range cs.Actions() {
		if act.GetResource().Resource == "leases" {
			t.Errorf("the dry run asked for the Leases: %v", act)
		}
	}
}

// TestClusterDryRunSaysChecks: the dry run of a cluster's rotation with
// --restart-control-plane says, as renew's dry run does, the checks the
// real run makes before the restarts (restart: renew.EtcdQuorum before
// etcd's, the other kube-apiservers' /readyz before kube-apiserver's or
// etcd's), each of which can hold a restart for up to 15 minutes and leave
// it owed; it named the Leases alone. It asks etcd and the API server
// nothing.
func TestClusterDryRunSaysChecks(t *testing.T) {
	const quorum = "[dry-run]   Before etcd's restart, the real run would ask this node's etcd member for the other members' health and, with three members or more, wait up to 15m0s while fewer than a quorum would be healthy without this one"
	const apiservers = "[dry-run]   Before the restart of kube-apiserver, or of etcd on a node with one, the real run would ask the other nodes' kube-apiservers (their mirror pods in kube-system) for /readyz and, while none is ready and this node's is, wait up to 15m0s"
	for _, tc := range []struct {
		ca   string
		want []string
		not  []string
	}{
		{"etcd-ca", []string{quorum, apiservers}, nil},
		{"front-proxy-ca", []string{apiservers}, []string{quorum}},
	} {
		t.Run(tc.ca, func(t *testing.T) {
			cs := fake.NewClientset()
			a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
			out := a.rotate(t, tc.ca, func(o *Options, c *ClusterOptions) {
				o.DryRun, o.Restart = true, true
				*o = o.WithSettings(&config.Cluster{CertificatesDir: o.CertDir, NodeName: "cp-1"}, false, "", "")
			})
			restart := strings.Index(out, "[dry-run]   restart ")
			for _, want := range tc.want {
				if i := strings.Index(out, want); i < 0 || i < restart {
					t.Errorf("dry run:\n%s\nwant, after the restart line, %q", out, want)
				}
			}
			for _, not := range tc.not {
				if strings.Contains(out, not) {
					t.Errorf("dry run:\n%s\nsays %q, of a restart it does not make", out, not)
				}
			}
			for _, act := range cs.Actions() {
				if r := act.GetResource().Resource; r == "pods" || r == "leases" {
					t.Errorf("the dry run asked for %s: %v", r, act)
				}
			}
		})
	}
}
