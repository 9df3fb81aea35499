package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/doctest"
	"github.com/certctl/certctl/internal/testcluster"
)

// TestRotateCAOnThreeNodes rotates the cluster CA of a real three-node control plane (every
// component run by the harness Kubelets from its static pod manifest) the way
// docs/ca-rotation.md's "Several control-plane nodes" says, running its block as written: node 1
// makes the new CA at trust and prints the certificate key of the Secret that carries it, the
// other nodes join with --certificate-key; each stage runs on every node, one node at a time,
// before the next stage runs anywhere; --restart-control-plane restarts each node's components.
// The test does not wait itself: certctl's reissue gate waits until every namespace's
// kube-root-ca.crt holds both CAs, then --root-ca-settle for the clients to read it again
// (without that wait the service-account client failed against the first re-issued
// kube-apiserver, which serves its new certificate as soon as reissue writes it). Two probers run through the whole rotation, every 50 ms per
// kind and node (admin.conf, a service-account token with the published root CA, the
// front-proxy client, etcd's client): one behind a load balancer that sends only to ready
// kube-apiservers (kube-apiserver runs with --shutdown-delay-duration, as in
// TestHarnessHARollingRestart), which must see zero failed requests of every kind and at least
// one endpoint ok at every instant; one pinned to each node, whose counts are the per-node
// unavailability window, logged. kubeadm's `certs check-expiration` reads each node's tree after
// each of its stages. After finish every kube-apiserver serves a certificate of the new CA only,
// etcd still serves one of etcd/ca.crt (the `ca` rotation leaves the etcd CA alone), every
// kubeconfig's CA data is the new CA alone and its client certificate is the new CA's, no
// certificate file or kubeconfig on any node holds the old CA, and the published
// kube-root-ca.crt holds the new CA alone. The test logs "ca rotation on 3 nodes: N s, F failed
// requests", which `make bench` prints (hack/bench.d/carotate.sh).
func TestRotateCAOnThreeNodes(t *testing.T) {
	h, ctx, ks, kubeadm := startRotationNodes(t)
	for _, c := range h.Nodes {
		if err := kubeadmCheckExpiration(ctx, kubeadm, c.Dir()); err != nil {
			t.Fatalf("%s before the rotation: %v", c.NodeName(), err)
		}
	}
	first := h.Node(1)
	oldCA := readCert(t, filepath.Join(first.PKIDir(), "ca.crt"))

	cs, err := first.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	// kubeadm's own bootstrap-token phase makes kube-public/cluster-info, where kubeadm join
	// finds the CA to trust; the rotation keeps it in step.
	if out, err := exec.CommandContext(ctx, kubeadm, "init", "phase", "bootstrap-token", "--kubeconfig", filepath.Join(first.KubeconfigDir(), "admin.conf")).CombinedOutput(); err != nil {
		t.Fatalf("kubeadm init phase bootstrap-token: %v\n%s", err, out)
	}
	checkClusterInfo(t, ctx, cs, "before the rotation", oldCA)
	// As the kubelet syncs a pod's projected kube-root-ca.crt.
	const rootCARefresh = 10 * time.Second
	balanced, err := testcluster.StartTraffic(ctx, h.Nodes, testcluster.TrafficOptions{ReadyOnly: true, RootCARefresh: rootCARefresh})
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := testcluster.StartTraffic(ctx, h.Nodes, testcluster.TrafficOptions{RootCARefresh: rootCARefresh})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)

	// docs/ca-rotation.md's several-node block, as written: node 1 starts, prints the
	// certificate key, the others join with it; certctl's gates wait for every
	// kube-root-ca.crt before reissue and check the served certificates before finish.
	steps := rotationDocSteps(t, len(h.Nodes))
	key := ""
	var newCA *x509.Certificate
	start := time.Now()
	for i, st := range steps {
		c := h.Nodes[st.node-1]
		stage := []string{"trust", "reissue", "finish"}[i/len(h.Nodes)]
		if stage == "finish" {
			// certctl's gate refuses finish while a node serves the old CA: it must not have to.
			for _, c := range h.Nodes {
				if cert := servedCert(t, c.Addr(testcluster.APIServer)); cert.CheckSignatureFrom(oldCA) == nil {
					t.Fatalf("before finish: %s's kube-apiserver still serves a certificate of the old CA (serial %s)", c.NodeName(), cert.SerialNumber)
				}
			}
		}
		args := append(slices.Clone(st.args), "--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(),
			"--manifest-dir", c.ManifestDir(), "--restart-timeout", "3m", "--root-ca-settle", (rootCARefresh + time.Second).String())
		for j, a := range args {
			if a == "KEY" {
				if key == "" {
					t.Fatalf("docs/ca-rotation.md's step %d uses KEY before a step printed it", i+1)
				}
				args[j] = key
			}
		}
		began := time.Now()
		out, err := runCertctl(t, ctx, args...)
		if err != nil {
			t.Fatalf("%s: ca rotate ca (%s): %v\n%s", c.NodeName(), stage, err, out)
		}
		t.Logf("%s: stage %s took %v", c.NodeName(), stage, time.Since(began).Round(time.Millisecond))
		// The rotation's restarts take the same Leases as renew's, so that nodes rotating at once
		// restart one at a time.
		if strings.Contains(out, "[restart] ") && (!strings.Contains(out, "took the Lease kube-system/certctl-restart-") || strings.Contains(out, "restarts alone")) {
			t.Errorf("%s: stage %s restarted without the restart Lease:\n%s", c.NodeName(), stage, out)
		}
		if i == 0 {
			m := printedKey.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("%s: trust printed no certificate key:\n%s", c.NodeName(), out)
			}
			key = m[1]
			newCA = readCert(t, filepath.Join(first.PKIDir(), "ca.new.crt"))
		}
		if i == 0 {
			checkClusterInfo(t, ctx, cs, "after trust on "+c.NodeName(), oldCA, newCA)
		}
		if stage == "reissue" && i == len(h.Nodes) && !strings.Contains(out, "kube-root-ca.crt holds both CAs") {
			t.Errorf("%s: the first reissue did not say it waited for kube-root-ca.crt:\n%s", c.NodeName(), out)
		}
		if err := kubeadmCheckExpiration(ctx, kubeadm, c.Dir()); err != nil {
			t.Errorf("%s after stage %s: %v", c.NodeName(), stage, err)
		}
	}
	wall := time.Since(start)
	time.Sleep(2 * time.Second)
	r := balanced.Stop()
	p := pinned.Stop()

	t.Logf("requests sent to ready kube-apiservers (load balancer) through the rotation:\n%s", r)
	t.Logf("requests pinned to each node through the rotation:\n%s", p)
	for _, k := range p.Kinds {
		for _, e := range k.Endpoints {
			t.Logf("unavailability window, %s pinned to %s: %d failed and %d unavailable requests, about %v",
				k.Kind, e.Node, e.Failed, e.Unavailable, time.Duration(e.Failed+e.Unavailable)*p.Interval)
		}
	}
	checkKubelets(t, ks)
	t.Logf("ca rotation on 3 nodes: %.0f s, %d failed requests", wall.Seconds(), r.Failed())

	checkBalancedTraffic(t, r)
	if len(r.Kinds) != len(testcluster.AllTrafficKinds) {
		t.Errorf("the prober ran %d kinds, want all %d", len(r.Kinds), len(testcluster.AllTrafficKinds))
	}

	newPool, oldPool := x509.NewCertPool(), x509.NewCertPool()
	newPool.AddCert(newCA)
	oldPool.AddCert(oldCA)
	for _, c := range h.Nodes {
		cert := servedCert(t, c.Addr(testcluster.APIServer))
		if _, err := cert.Verify(x509.VerifyOptions{Roots: newPool}); err != nil {
			t.Errorf("%s's kube-apiserver serves a certificate the new CA does not verify: %v", c.NodeName(), err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: oldPool}); err == nil {
			t.Errorf("%s's kube-apiserver serves a certificate the old CA verifies", c.NodeName())
		}
		etcdCert := servedCert(t, c.Addr(testcluster.Etcd))
		if _, err := etcdCert.Verify(x509.VerifyOptions{Roots: certPool(t, filepath.Join(c.PKIDir(), "etcd", "ca.crt")), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("%s's etcd serves a certificate etcd/ca.crt does not verify: %v", c.NodeName(), err)
		}
		if got := pemCerts(t, mustRead(t, filepath.Join(c.PKIDir(), "ca.crt"))); len(got) != 1 || !got[0].Equal(newCA) {
			t.Errorf("%s: ca.crt holds %d certificates, want the new CA alone", c.NodeName(), len(got))
		}
		checkKubeconfigsNewOnly(t, c, newCA, newPool, oldPool)
		checkNoOldCA(t, c, oldCA)
	}

	// A new client: admin.conf now trusts the new CA alone.
	cs, err = first.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	if err := eventually(ctx, 2*time.Minute, func() error { return rootCAsHold(ctx, cs, newCA) }); err != nil {
		t.Errorf("after finish: %v", err)
	}
	checkPublishedCA(t, ctx, h.Nodes, nil, "client-ca-file", oldCA, newCA)
	checkClusterInfo(t, ctx, cs, "after finish", newCA)
}

// checkClusterInfo checks that the CA data of kube-public/cluster-info, which kubeadm join
// checks --discovery-token-ca-cert-hash against and then trusts, is want, in that order.
func checkClusterInfo(t *testing.T, ctx context.Context, cs kubernetes.Interface, when string, want ...*x509.Certificate) {
	t.Helper()
	cm, err := cs.CoreV1().ConfigMaps("kube-public").Get(ctx, "cluster-info", metav1.GetOptions{})
	if err != nil {
		t.Errorf("%s: %v", when, err)
		return
	}
	cfg, err := clientcmd.Load([]byte(cm.Data["kubeconfig"]))
	if err != nil || len(cfg.Clusters) != 1 {
		t.Errorf("%s: kube-public/cluster-info's kubeconfig: %v, %d clusters", when, err, len(cfg.Clusters))
		return
	}
	for _, c := range cfg.Clusters {
		got := pemCerts(t, c.CertificateAuthorityData)
		ok := len(got) == len(want)
		for i := 0; ok && i < len(got); i++ {
			ok = got[i].Equal(want[i])
		}
		if !ok {
			t.Errorf("%s: kube-public/cluster-info trusts %d CAs, want %d (the old CA, then the new one, while a node may serve either)", when, len(got), len(want))
		}
	}
}

// startRotationNodes starts the three-node control plane of the rotation tests (kube-apiserver
// with --shutdown-delay-duration=2s, so that the ReadyOnly load balancer stops sending to it
// before it stops serving), a Kubelet per node, and each node's kubeadm.yaml for kubeadm's
// check-expiration. It returns the kubeadm binary to run.
func startRotationNodes(t *testing.T) (*testcluster.HA, context.Context, []*testcluster.Kubelet, string) {
	t.Helper()
	kubeadmBin, err := testcluster.BinDir("", "kubeadm")
	if err != nil {
		t.Fatal(err)
	}
	h := testcluster.StartHA(t, testcluster.Options{Nodes: 3, ExtraArgs: map[string][]string{
		testcluster.APIServer: {"--shutdown-delay-duration=2s"},
	}})
	ctx := testCtx(t, 18*time.Minute)
	ks, err := h.StartKubelets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range h.Nodes {
		if err := os.WriteFile(filepath.Join(c.Dir(), "kubeadm.yaml"), []byte(kubeadmConfig), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return h, ctx, ks, filepath.Join(kubeadmBin, "kubeadm")
}

// checkBalancedTraffic checks what the ReadyOnly load balancer's clients saw through a rotation:
// no request of any kind failed, at least one endpoint answered each kind at every instant, and
// each kind had answers.
func checkBalancedTraffic(t *testing.T, r testcluster.Report) {
	t.Helper()
	for _, k := range r.Kinds {
		if k.Failed() != 0 {
			t.Errorf("%s: %d requests through the load balancer failed during the rotation, want 0", k.Kind, k.Failed())
		}
		if k.FewestOK < 1 {
			t.Errorf("%s: fewest endpoints ok at once %d, want at least 1 at every instant", k.Kind, k.FewestOK)
		}
		if k.OK() == 0 {
			t.Errorf("%s: no request succeeded", k.Kind)
		}
	}
}

// checkKubelets logs how often each node's Kubelet restarted its components and fails on a
// restart that failed or a manifest it rejected.
func checkKubelets(t *testing.T, ks []*testcluster.Kubelet) {
	t.Helper()
	for i, k := range ks {
		t.Logf("cp-%d Kubelet restarts: kube-apiserver %d, kube-controller-manager %d, kube-scheduler %d, etcd %d", i+1,
			k.Restarts(testcluster.APIServer), k.Restarts(testcluster.ControllerManager), k.Restarts(testcluster.Scheduler), k.Restarts(testcluster.Etcd))
		for _, e := range k.Events() {
			if e.Action == "failed" || e.Action == "rejected" {
				t.Errorf("cp-%d Kubelet: %s", i+1, e)
			}
		}
	}
}

// printedKey finds the certificate key that trust prints on the node that starts a rotation.
var printedKey = regexp.MustCompile(`encrypted with the certificate key:\n([0-9a-f]{64})\n`)

// rotationStep is one command of docs/ca-rotation.md's several-node block.
type rotationStep struct {
	node int      // 1-based
	args []string // after "certctl", KEY where the printed key goes
}

// rotationDocSteps reads docs/ca-rotation.md's several-node block (the block after its test
// marker): "node-N$ sudo certctl ARGS  # comment" lines, every stage on every one of nodes.
func rotationDocSteps(t *testing.T, nodes int) []rotationStep {
	t.Helper()
	doc := string(mustRead(t, filepath.Join("..", "..", "docs", "ca-rotation.md")))
	const marker = "<!-- test/e2e/carotate_ha_test.go runs this block -->"
	i := strings.Index(doc, marker)
	if i < 0 {
		t.Fatalf("docs/ca-rotation.md has no %q", marker)
	}
	var steps []rotationStep
	for _, l := range strings.Split(doc[i+len(marker):], "\n")[2:] { // the marker's line end, then the ```console line
		l = strings.TrimSpace(l)
		if l == "```" {
			break
		}
		if c := strings.Index(l, "#"); c >= 0 {
			l = strings.TrimSpace(l[:c])
		}
		var n int
		var rest string
		if _, err := fmt.Sscanf(l, "node-%d$", &n); err != nil {
			t.Fatalf("docs/ca-rotation.md's block: %q is not a node-N$ command", l)
		}
		rest = strings.TrimSpace(l[strings.Index(l, "$")+1:])
		args, ok := strings.CutPrefix(rest, "sudo certctl ")
		if !ok {
			t.Fatalf("docs/ca-rotation.md's block: %q does not run sudo certctl", l)
		}
		words, err := doctest.Words(args)
		if err != nil {
			t.Fatalf("docs/ca-rotation.md's block: %v", err)
		}
		steps = append(steps, rotationStep{node: n, args: words})
	}
	if len(steps) != 3*nodes {
		t.Fatalf("docs/ca-rotation.md's block has %d commands, want the 3 stages on %d nodes", len(steps), nodes)
	}
	return steps
}

// rootCAsHold returns nil if ConfigMap kube-root-ca.crt of every namespace holds exactly want.
func rootCAsHold(ctx context.Context, cs kubernetes.Interface, want ...*x509.Certificate) error {
	cms, err := cs.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=kube-root-ca.crt"})
	if err != nil {
		return err
	}
	nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	if len(cms.Items) != len(nss.Items) {
		return fmt.Errorf("%d namespaces have a kube-root-ca.crt ConfigMap, of %d", len(cms.Items), len(nss.Items))
	}
	for _, cm := range cms.Items {
		got := pemCertsLax([]byte(cm.Data["ca.crt"]))
		same := len(got) == len(want)
		for _, w := range want {
			same = same && slices.ContainsFunc(got, w.Equal)
		}
		if !same {
			return fmt.Errorf("kube-root-ca.crt in namespace %s holds %d certificates, not the %d wanted (old and new CA before reissue, new alone after finish)", cm.Namespace, len(got), len(want))
		}
	}
	return nil
}

// servedCert returns the leaf certificate served at addr (TLS handshake, not verified).
func servedCert(t *testing.T, addr string) *x509.Certificate {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// checkKubeconfigsNewOnly: every kubeconfig of the node trusts the new CA alone and presents a
// client certificate of the new CA.
func checkKubeconfigsNewOnly(t *testing.T, c *testcluster.Cluster, newCA *x509.Certificate, newPool, oldPool *x509.CertPool) {
	t.Helper()
	confs, err := filepath.Glob(filepath.Join(c.KubeconfigDir(), "*.conf"))
	if err != nil || len(confs) == 0 {
		t.Fatalf("%s: no kubeconfig in %s (%v)", c.NodeName(), c.KubeconfigDir(), err)
	}
	for _, path := range confs {
		cfg, err := clientcmd.LoadFromFile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for name, cl := range cfg.Clusters {
			if got := pemCerts(t, cl.CertificateAuthorityData); len(got) != 1 || !got[0].Equal(newCA) {
				t.Errorf("%s: cluster %s's certificate-authority-data holds %d certificates, want the new CA alone", path, name, len(got))
			}
		}
		for name, ai := range cfg.AuthInfos {
			if len(ai.ClientCertificateData) == 0 {
				continue
			}
			cert := pemCerts(t, ai.ClientCertificateData)[0]
			opts := x509.VerifyOptions{KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
			opts.Roots = newPool
			if _, err := cert.Verify(opts); err != nil {
				t.Errorf("%s: user %s's client certificate is not the new CA's: %v", path, name, err)
			}
			opts.Roots = oldPool
			if _, err := cert.Verify(opts); err == nil {
				t.Errorf("%s: user %s's client certificate is the old CA's", path, name)
			}
		}
	}
}

// checkNoOldCA: no certificate file or kubeconfig of the node (backups apart) holds the old CA.
func checkNoOldCA(t *testing.T, c *testcluster.Cluster, oldCA *x509.Certificate) {
	t.Helper()
	err := filepath.WalkDir(c.KubeconfigDir(), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "certctl-backups" {
			return fs.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".crt") || strings.HasSuffix(path, ".conf") || strings.HasSuffix(path, ".pem")) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		certs := pemCertsLax(data)
		if strings.HasSuffix(path, ".conf") {
			if cfg, err := clientcmd.Load(data); err == nil {
				for _, cl := range cfg.Clusters {
					certs = append(certs, pemCertsLax(cl.CertificateAuthorityData)...)
				}
			}
		}
		for _, cert := range certs {
			if cert.Equal(oldCA) {
				t.Errorf("%s: %s still holds the old CA", c.NodeName(), path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", c.NodeName(), err)
	}
}

func pemCerts(t *testing.T, data []byte) []*x509.Certificate {
	t.Helper()
	certs := pemCertsLax(data)
	if len(certs) == 0 {
		t.Fatalf("no PEM certificate in %q", data)
	}
	return certs
}

// pemCertsLax returns the certificates of every PEM CERTIFICATE block of data that parses.
func pemCertsLax(data []byte) []*x509.Certificate {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return certs
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if cert, err := x509.ParseCertificate(block.Bytes); err == nil {
			certs = append(certs, cert)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// kubeadmCheckExpiration runs kubeadm's `certs check-expiration` on the node folder dir (a node's
// layout, see TestKubeadmCheckExpiration) and returns an error if it does not exit 0 or reports
// a certificate MISSING or <invalid>.
func kubeadmCheckExpiration(ctx context.Context, kubeadm, dir string) error {
	out, err := runKubeadmCheckExpiration(ctx, kubeadm, dir)
	if err != nil {
		return err
	}
	if bytes.Contains(out, []byte("MISSING")) || bytes.Contains(out, []byte("<invalid>")) {
		return fmt.Errorf("kubeadm certs check-expiration --rootfs %s reports MISSING or <invalid> rows:\n%s", dir, out)
	}
	return nil
}

// TestRotateSAOnThreeNodes rotates the service-account key pair of a real three-node control
// plane in docs/ca-rotation.md's several-node order (node 1 makes the new key at trust and
// prints the certificate key, the others join with --certificate-key; each stage on every node before the next stage anywhere;
// --restart-control-plane; --max-token-lifetime 1s, as the prober renews its token every 5 s)
// while the probers run behind a ReadyOnly load balancer: no request of any kind fails, at
// least one endpoint answers each kind at every instant. A token of the old key, requested
// before the rotation, authenticates on every node that has not finished, and is refused (401)
// on every node that has; kubeadm's `certs check-expiration` exits 0 on each node after each
// of its stages.
func TestRotateSAOnThreeNodes(t *testing.T) {
	h, ctx, _, kubeadm := startRotationNodes(t)
	first := h.Node(1)
	if _, err := adminClient(t, first).CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "rotate"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	oldToken := saToken(t, ctx, first)
	const tokenRefresh = 5 * time.Second
	balanced, err := testcluster.StartTraffic(ctx, h.Nodes, testcluster.TrafficOptions{ReadyOnly: true, TokenRefresh: tokenRefresh})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)

	key := ""
	finished := map[string]bool{}
	start := time.Now()
	for _, stage := range []string{"trust", "reissue", "finish"} {
		if stage == "finish" {
			// Every node signs with the new key: the prober's next token is of the new key.
			time.Sleep(tokenRefresh + time.Second)
		}
		for i, c := range h.Nodes {
			args := []string{"ca", "rotate", "sa", "--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(),
				"--manifest-dir", c.ManifestDir(), "--restart-control-plane", "--restart-timeout", "3m", "--max-token-lifetime", "1s"}
			if stage == "trust" && i > 0 {
				args = append(args, "--certificate-key", key)
			}
			out, err := runCertctl(t, ctx, args...)
			if err != nil {
				t.Fatalf("%s: ca rotate sa (%s): %v\n%s", c.NodeName(), stage, err, out)
			}
			if stage == "trust" && i == 0 {
				m := printedKey.FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("%s: trust printed no certificate key:\n%s", c.NodeName(), out)
				}
				key = m[1]
			}
			finished[c.NodeName()] = stage == "finish"
			if err := kubeadmCheckExpiration(ctx, kubeadm, c.Dir()); err != nil {
				t.Errorf("%s after stage %s: %v", c.NodeName(), stage, err)
			}
			for _, o := range h.Nodes {
				want := http.StatusCreated
				if finished[o.NodeName()] {
					want = http.StatusUnauthorized
				}
				var code int
				// A kube-apiserver just restarted answers 403 until its RBAC caches are filled.
				err := eventually(ctx, 30*time.Second, func() error {
					if code = selfReview(t, ctx, o, nil, oldToken, ""); code != want {
						return fmt.Errorf("HTTP %d", code)
					}
					return nil
				})
				if err != nil {
					t.Errorf("after %s on %s: the token of the old key on %s: HTTP %d, want %d", stage, c.NodeName(), o.NodeName(), code, want)
				}
			}
		}
	}
	wall := time.Since(start)
	r := balanced.Stop()
	t.Logf("requests sent to ready kube-apiservers (load balancer) through the rotation:\n%s", r)
	t.Logf("sa rotation on 3 nodes: %.0f s, %d failed requests", wall.Seconds(), r.Failed())
	checkBalancedTraffic(t, r)
}
