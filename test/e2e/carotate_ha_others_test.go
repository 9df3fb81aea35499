package e2e

import (
	"context"
	"crypto/x509"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
)

// TestRotateEtcdCAOnThreeNodes rotates the etcd CA of a real three-node control plane (each
// node's etcd member and kube-apiserver run by the harness Kubelets, restarted by
// --restart-control-plane after each stage) in docs/ca-rotation.md's several-node order, as
// TestRotateCAOnThreeNodes does for ca. Through the whole rotation, every 50 ms per node:
//   - kube-apiserver's clients behind a load balancer that sends only to ready kube-apiservers
//     (admin.conf, a service-account token, the front-proxy client): kube-apiserver is itself an
//     etcd client, so each of its answers needs etcd; zero failed requests;
//   - an etcd client from each node as kube-apiserver's is (its node's etcd/ca.crt and
//     apiserver-etcd-client, every member listed, its own first, and failing over): zero failed
//     requests, and no attempt on any member refused for a certificate;
//   - an etcd client pinned to each member (testcluster's etcd kind): a member that restarts
//     cannot answer, so these counts are each member's unavailability window, logged; none of
//     their failures may be a certificate refused.
//
// After finish every leaf of the etcd CA on every node (etcd's server, peer and
// healthcheck-client certificates, apiserver-etcd-client) verifies against the new CA and not
// the old one, etcd/ca.crt holds the new CA alone, every etcd member serves (client and peer
// ports) a certificate of the new CA only, and no file of any node holds the old CA.
func TestRotateEtcdCAOnThreeNodes(t *testing.T) {
	rotateOtherCAOnThreeNodes(t, "etcd-ca", "etcd/ca")
}

// TestRotateFrontProxyCAOnThreeNodes rotates the front-proxy CA of a real three-node control
// plane as TestRotateEtcdCAOnThreeNodes does the etcd CA. Through the whole rotation, every 50 ms
// per node, behind the ReadyOnly load balancer, with zero failed requests:
//   - testcluster's front-proxy kind: a client presenting the node's front-proxy-client.crt
//     (read before each request) and a user in X-Remote-User to kube-apiserver, which must verify
//     it against its --requestheader-client-ca-file (front-proxy-ca.crt);
//   - an aggregated API (carotate_aggregated_test.go) asked with admin.conf: kube-apiserver
//     proxies it with the front-proxy client certificate it presents (--proxy-client-cert-file),
//     which the extension server verifies against the request-header CA that kube-apiserver
//     publishes in ConfigMap kube-system/extension-apiserver-authentication;
//   - admin.conf and a service-account token (nothing of theirs changes: they must not notice).
//
// After finish front-proxy-client.crt on every node verifies against the new CA only,
// front-proxy-ca.crt holds the new CA alone, each node's kube-apiserver presents a client
// certificate of the new CA only to the aggregated API, and no file of any node holds the old CA.
// ConfigMap kube-system/extension-apiserver-authentication, where extension API servers read the
// request-header CA, holds the new CA and not the old one (checkPublishedCA).
func TestRotateFrontProxyCAOnThreeNodes(t *testing.T) {
	rotateOtherCAOnThreeNodes(t, "front-proxy-ca", "front-proxy-ca")
}

// otherRotation is one run of rotateOtherCAOnThreeNodes.
type otherRotation struct {
	t          *testing.T
	ctx        context.Context
	h          *testcluster.HA
	kubeadm    string
	name, base string // the CA's `ca rotate` argument, its files' name in the PKI folder
	oldCA      *x509.Certificate
	carry      string // the new CA's files, carried from node 1 to the others

	balanced   *testcluster.Traffic // kube-apiserver's clients behind the load balancer
	extra      *prober              // the aggregated API, or the failover etcd client
	agg        *aggregatedAPI       // front-proxy-ca
	etcdClient *etcdFailover        // etcd-ca
	pinned     *testcluster.Traffic // etcd-ca: etcd clients pinned to each member
}

// rotateOtherCAOnThreeNodes is the two tests above: name is the CA's `ca rotate` argument, base
// its files' name in the PKI folder.
func rotateOtherCAOnThreeNodes(t *testing.T, name, base string) {
	h, ctx, ks, kubeadm := startRotationNodes(t)
	r := &otherRotation{t: t, ctx: ctx, h: h, kubeadm: kubeadm, name: name, base: base,
		oldCA: readCert(t, filepath.Join(h.Node(1).PKIDir(), base+".crt")), carry: t.TempDir()}
	oldPool := x509.NewCertPool()
	oldPool.AddCert(r.oldCA)
	leaves := map[string][]string{}
	for _, c := range h.Nodes {
		leaves[c.NodeName()] = leavesOf(t, c, oldPool)
		if len(leaves[c.NodeName()]) == 0 {
			t.Fatalf("%s: no certificate of %s before the rotation", c.NodeName(), name)
		}
	}

	r.startTraffic()
	start := time.Now()
	for _, stage := range []string{"trust", "reissue", "finish"} {
		r.stage(stage)
	}
	wall := time.Since(start)
	time.Sleep(2 * time.Second)
	failed := r.checkTraffic()
	checkKubelets(t, ks)
	t.Logf("%s rotation on 3 nodes: %.0f s, %d failed requests", name, wall.Seconds(), failed)

	newCA := parseCertPEM(t, mustRead(t, filepath.Join(r.carry, "ca.new.crt")), "the new CA")
	newPool := x509.NewCertPool()
	newPool.AddCert(newCA)
	for _, c := range h.Nodes {
		if got := pemCerts(t, mustRead(t, filepath.Join(c.PKIDir(), base+".crt"))); len(got) != 1 || !got[0].Equal(newCA) {
			t.Errorf("%s: %s.crt holds %d certificates, want the new CA alone", c.NodeName(), base, len(got))
		}
		for _, f := range leaves[c.NodeName()] {
			checkNewOnly(t, c.NodeName()+": "+f, readCert(t, f), newPool, oldPool)
		}
		if got := leavesOf(t, c, oldPool); len(got) != 0 {
			t.Errorf("%s: certificates of the old CA after finish: %q", c.NodeName(), got)
		}
		for _, cert := range r.presented(c) {
			checkNewOnly(t, c.NodeName()+": served or presented "+cert.Subject.CommonName, cert, newPool, oldPool)
		}
		checkNoOldCA(t, c, r.oldCA)
	}
	if r.agg != nil {
		checkPublishedCA(t, ctx, h.Nodes, r.agg, "requestheader-client-ca-file", r.oldCA, newCA)
	}
}

// startTraffic starts the clients of the CA's test (see the tests' comments).
func (r *otherRotation) startTraffic() {
	t, ctx, nodes := r.t, r.ctx, r.h.Nodes
	kinds := []testcluster.TrafficKind{testcluster.TrafficAdmin, testcluster.TrafficServiceAccount, testcluster.TrafficFrontProxy}
	var err error
	switch r.name {
	case "front-proxy-ca":
		// The etcd members do not restart: the etcd kind's pinned clients may run behind the load
		// balancer with the others, as in TestRotateCAOnThreeNodes.
		kinds = append(kinds, testcluster.TrafficEtcd)
		r.agg = startAggregatedAPI(t, ctx, nodes)
		r.extra = startProber(ctx, "aggregated", nodes, true, r.agg.request)
	case "etcd-ca":
		r.etcdClient = newEtcdFailover(nodes)
		r.extra = startProber(ctx, "etcd (failover)", nodes, false, r.etcdClient.request)
		r.pinned, err = testcluster.StartTraffic(ctx, nodes, testcluster.TrafficOptions{Kinds: []testcluster.TrafficKind{testcluster.TrafficEtcd}})
		if err != nil {
			t.Fatal(err)
		}
	}
	r.balanced, err = testcluster.StartTraffic(ctx, nodes, testcluster.TrafficOptions{ReadyOnly: true, Kinds: kinds})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
}

// stage runs stage on every node, one at a time, as docs/ca-rotation.md's several-node order
// says: at trust node 1 makes the new CA and the others are given it.
func (r *otherRotation) stage(stage string) {
	t := r.t
	first := r.h.Node(1)
	for i, c := range r.h.Nodes {
		args := []string{"ca", "rotate", r.name, "--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(),
			"--manifest-dir", c.ManifestDir(), "--restart-control-plane", "--restart-timeout", "3m"}
		if stage == "trust" && i > 0 {
			args = append(args, "--new-ca-cert", filepath.Join(r.carry, "ca.new.crt"), "--new-ca-key", filepath.Join(r.carry, "ca.new.key"))
		}
		began := time.Now()
		out, err := runCertctl(t, r.ctx, args...)
		if err != nil {
			t.Fatalf("%s: ca rotate %s (%s): %v\n%s", c.NodeName(), r.name, stage, err, out)
		}
		t.Logf("%s: stage %s took %v", c.NodeName(), stage, time.Since(began).Round(time.Millisecond))
		if strings.Contains(out, "[restart] ") && (!strings.Contains(out, "took the Lease kube-system/certctl-restart-") || strings.Contains(out, "restarts alone")) {
			t.Errorf("%s: stage %s restarted without the restart Lease:\n%s", c.NodeName(), stage, out)
		}
		if stage == "trust" && i == 0 {
			// "Over a secure channel": a 0700 folder.
			for from, to := range map[string]string{r.base + ".new.crt": "ca.new.crt", r.base + ".new.key": "ca.new.key"} {
				if err := os.WriteFile(filepath.Join(r.carry, to), mustRead(t, filepath.Join(first.PKIDir(), from)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := kubeadmCheckExpiration(r.ctx, r.kubeadm, c.Dir()); err != nil {
			t.Errorf("%s after stage %s: %v", c.NodeName(), stage, err)
		}
	}
	if stage != "reissue" {
		return
	}
	// The doc's precondition for finish: nothing served or presented is of the old CA.
	for _, c := range r.h.Nodes {
		for _, cert := range r.presented(c) {
			if cert.CheckSignatureFrom(r.oldCA) == nil {
				t.Fatalf("before finish: %s still serves or presents a certificate of the old CA (%s, serial %s)", c.NodeName(), cert.Subject.CommonName, cert.SerialNumber)
			}
		}
	}
}

// checkTraffic stops the clients, logs their counts and checks them; it returns the failed
// requests of the clients that must see none.
func (r *otherRotation) checkTraffic() int {
	t := r.t
	b := r.balanced.Stop()
	counts := r.extra.stop()
	t.Logf("requests sent to ready kube-apiservers (load balancer) through the rotation:\n%s", b)
	t.Logf("%s requests through the rotation:\n%s", r.extra.name, r.extra.summary(counts))
	failed := b.Failed()
	checkBalancedTraffic(t, b)
	for node, n := range counts {
		failed += n.Failed
		if n.Failed != 0 {
			t.Errorf("%s from/through %s: %d requests failed during the rotation, want 0", r.extra.name, node, n.Failed)
		}
		if n.OK == 0 {
			t.Errorf("%s from/through %s: no request succeeded", r.extra.name, node)
		}
	}
	if r.pinned != nil {
		p := r.pinned.Stop()
		t.Logf("etcd clients pinned to each member through the rotation:\n%s", p)
		for _, k := range p.Kinds {
			for _, e := range k.Endpoints {
				t.Logf("unavailability window, etcd member of %s (pinned client): %d failed and %d unavailable requests, about %v",
					e.Node, e.Failed, e.Unavailable, time.Duration(e.Failed+e.Unavailable)*p.Interval)
				for _, te := range e.Errors {
					if trustText(te.Text) {
						t.Errorf("pinned etcd client of %s: a certificate refused: %s", e.Node, te.Text)
					}
				}
			}
		}
	}
	if r.etcdClient != nil {
		for _, c := range r.h.Nodes {
			t.Logf("etcd (failover): attempts on the member of %s that failed: %d", c.NodeName(), r.etcdClient.misses[c.NodeName()])
			for _, e := range r.etcdClient.trust[c.NodeName()] {
				t.Errorf("etcd (failover): the member of %s refused for a certificate: %s", c.NodeName(), e)
			}
		}
	}
	return failed
}

// leavesOf lists the certificate files of node c's PKI folder (backups apart) that are not CAs
// and that pool verifies.
func leavesOf(t *testing.T, c *testcluster.Cluster, pool *x509.CertPool) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(c.PKIDir(), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "certctl-backups" {
			return fs.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".crt") {
			return nil
		}
		cert := readCert(t, path)
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil && !cert.IsCA {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", c.NodeName(), err)
	}
	return out
}

// checkNewOnly: cert verifies against the new CA and not against the old one.
func checkNewOnly(t *testing.T, what string, cert *x509.Certificate, newPool, oldPool *x509.CertPool) {
	t.Helper()
	opts := x509.VerifyOptions{Roots: newPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if _, err := cert.Verify(opts); err != nil {
		t.Errorf("%s: the new CA does not verify it: %v", what, err)
	}
	opts.Roots = oldPool
	if _, err := cert.Verify(opts); err == nil {
		t.Errorf("%s: the old CA verifies it", what)
	}
}

// presented returns what node c serves or presents of the CA: etcd's client and peer serving
// certificates; the client certificate kube-apiserver presents to the aggregated API.
func (r *otherRotation) presented(c *testcluster.Cluster) []*x509.Certificate {
	t := r.t
	t.Helper()
	switch r.name {
	case "etcd-ca":
		return []*x509.Certificate{servedCert(t, c.Addr(testcluster.Etcd)), servedCert(t, net.JoinHostPort(c.Host(), strconv.Itoa(c.EtcdPeerPort())))}
	case "front-proxy-ca":
		var cert *x509.Certificate
		// A kube-apiserver just restarted answers 403 until its RBAC caches are filled.
		err := eventually(r.ctx, 30*time.Second, func() (err error) {
			cert, err = r.agg.presentedBy(r.ctx, c)
			return err
		})
		if err != nil || cert == nil {
			t.Fatalf("%s: the aggregated API through its kube-apiserver: %v (certificate seen: %v)", c.NodeName(), err, cert != nil)
		}
		if want := readCert(t, filepath.Join(c.PKIDir(), "front-proxy-client.crt")); !cert.Equal(want) {
			t.Errorf("%s: kube-apiserver presents front-proxy client certificate serial %s, not its front-proxy-client.crt (serial %s)", c.NodeName(), cert.SerialNumber, want.SerialNumber)
		}
		return []*x509.Certificate{cert}
	}
	return nil
}

// checkPublishedCA checks ConfigMap kube-system/extension-apiserver-authentication after finish,
// where extension API servers read which CAs to trust (key: client-ca-file for ca,
// requestheader-client-ca-file for front-proxy-ca). kube-apiserver merges the CAs it reads into
// it and drops one only once it has expired (kubernetes
// pkg/controlplane/controller/clusterauthenticationtrust, combineCertLists), so the old CA would
// stay trusted there for years: the last node's finish removes it. It must hold the new CA and
// not the old one, and stay so while every kube-apiserver keeps publishing what it reads (the
// controller writes at start and when the files change), and with agg the aggregated API keeps
// working through every node.
func checkPublishedCA(t *testing.T, ctx context.Context, nodes []*testcluster.Cluster, agg *aggregatedAPI, key string, oldCA, newCA *x509.Certificate) {
	t.Helper()
	cs := adminClient(t, nodes[0])
	check := func(when string) {
		cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, "extension-apiserver-authentication", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		hasOld, hasNew := false, false
		for _, cert := range pemCertsLax([]byte(cm.Data[key])) {
			hasOld = hasOld || cert.Equal(oldCA)
			hasNew = hasNew || cert.Equal(newCA)
		}
		if hasOld || !hasNew {
			t.Errorf("%s, ConfigMap kube-system/extension-apiserver-authentication's %s: old CA %v, new CA %v; want the new one and not the old", when, key, hasOld, hasNew)
		}
	}
	check("after finish")
	// kube-apiserver's controller also resyncs every minute: the old CA must not come back.
	select {
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-time.After(65 * time.Second):
	}
	check("a minute after finish")
	if agg == nil {
		return
	}
	for _, c := range nodes {
		if err := agg.request(ctx, c); err != nil {
			t.Errorf("after finish, the aggregated API through %s: %v", c.NodeName(), err)
		}
	}
}
