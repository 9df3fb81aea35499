package e2e

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/doctest"
	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/clusterview"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

// registerNodes makes the API objects a kubelet and kubeadm would make for each node of h, which
// the harness runs without a kubelet: the Node with the control-plane label and its InternalIP,
// the mirror pods of kube-apiserver and etcd with kubeadm's endpoint annotations, and the
// kubeadm-config ConfigMap.
func registerNodes(t *testing.T, ctx context.Context, cs kubernetes.Interface, h *testcluster.HA) {
	t.Helper()
	for _, c := range h.Nodes {
		registerNode(t, ctx, cs, c.NodeName(), c.Host())
	}
	// The ServiceAccount admission plugin wants kube-system's default account, which
	// kube-controller-manager would make.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "kube-system"}}
	if _, err := cs.CoreV1().ServiceAccounts("kube-system").Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, c := range h.Nodes {
		registerMirrorPods(t, ctx, cs, c.NodeName(), c.Addr(testcluster.APIServer), c.URL(testcluster.Etcd))
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: config.ConfigMapName, Namespace: "kube-system"},
		Data: map[string]string{config.ConfigMapKey: fmt.Sprintf(
			"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  serviceSubnet: %s\n  dnsDomain: %s\n",
			testcluster.ServiceCIDR, testcluster.DNSDomain)}}
	if _, err := cs.CoreV1().ConfigMaps("kube-system").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// registerMirrorPods creates the mirror pods the kubelet of node makes from kubeadm's static pod
// manifests of kube-apiserver and etcd, with kubeadm's endpoint annotations: apiserver is the
// advertise address and port, etcdURL the advertised client URL. The harness's Kubelet runs the
// manifests' processes but makes no mirror pod in the API. They are made as the kubelet makes them
// (pkg/kubelet/pod/mirror_client.go): the mirror annotation and the Node as controller, which
// signer run and approve require of a pod that advertises a node's address.
func registerMirrorPods(t *testing.T, ctx context.Context, cs kubernetes.Interface, node, apiserver, etcdURL string) {
	t.Helper()
	n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Node of the mirror pods: %v", err)
	}
	no, yes := false, true
	for comp, ann := range map[string]map[string]string{
		"kube-apiserver": {clusterview.APIServerEndpointAnnotation: apiserver, clusterview.MirrorPodAnnotation: "e2e"},
		"etcd":           {clusterview.EtcdClientURLsAnnotation: etcdURL, clusterview.MirrorPodAnnotation: "e2e"},
	} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: comp + "-" + node, Namespace: "kube-system", Annotations: ann,
				Labels:          map[string]string{"component": comp, "tier": "control-plane"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node, UID: n.UID, Controller: &yes}}},
			Spec: corev1.PodSpec{NodeName: node, AutomountServiceAccountToken: &no,
				Containers: []corev1.Container{{Name: comp, Image: "registry.k8s.io/" + comp + ":" + testcluster.KubeVersion}}},
		}
		if _, err := cs.CoreV1().Pods("kube-system").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create mirror pod %s: %v", pod.Name, err)
		}
	}
}

// registerNode creates a control-plane Node with InternalIP ip, as the kubelet registers it.
func registerNode(t *testing.T, ctx context.Context, cs kubernetes.Interface, name, ip string) {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{clusterview.ControlPlaneLabel: ""}}}
	created, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Node %s: %v", name, err)
	}
	created.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}, {Type: corev1.NodeHostName, Address: name}}
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("set the addresses of Node %s: %v", name, err)
	}
}

// TestClusterViewAndSignerNodes starts three control-plane nodes and registers them as kubeadm and
// the kubelet would. Then, from node 1:
//   - `check-expiration --cluster` lists the three nodes with what each kube-apiserver, etcd
//     client and etcd peer endpoint serves: the expiry of that node's own certificate file,
//     signed by the local CAs, SANs matching the address (issue 16 item 4);
//   - `signer run` and `approve` without --control-plane-node issue node 2's apiserver
//     certificate, learned from its Node; a node unknown to the cluster is refused until its
//     Node is added, while the signer runs (item 5).
func TestClusterViewAndSignerNodes(t *testing.T) {
	h := testcluster.StartHA(t, testcluster.Options{Nodes: 3, Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 5*time.Minute)
	first := h.Node(1)
	cs, err := first.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	registerNodes(t, ctx, cs, h)

	t.Run("check-expiration --cluster", func(t *testing.T) {
		args := []string{"check-expiration", "--cluster", "--cert-dir", first.PKIDir(), "--kubeconfig-dir", first.KubeconfigDir()}
		out, err := exec.CommandContext(ctx, signerCertctl(t), append(args, "-o", "json")...).Output()
		if err != nil {
			t.Fatalf("certctl %s -o json: %v\n%s", strings.Join(args, " "), err, out)
		}
		var info clusterview.Info
		if err := json.Unmarshal(out, &info); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(info.Nodes) != 3 || len(info.Warnings) != 0 {
			t.Fatalf("nodes %d, warnings %q, want the 3 nodes and none:\n%s", len(info.Nodes), info.Warnings, out)
		}
		for i, n := range info.Nodes {
			c := h.Node(i + 1)
			if n.Name != c.NodeName() || !slices.Equal(n.Addresses, []string{c.Host()}) {
				t.Errorf("node %d: %s %v, want %s at %s", i+1, n.Name, n.Addresses, c.NodeName(), c.Host())
			}
			files := map[string]string{clusterview.APIServer: "apiserver.crt", clusterview.EtcdClient: "etcd/server.crt", clusterview.EtcdPeer: "etcd/peer.crt"}
			addrs := map[string]string{clusterview.APIServer: c.Addr(testcluster.APIServer), clusterview.EtcdClient: c.Addr(testcluster.Etcd),
				clusterview.EtcdPeer: fmt.Sprintf("%s:%d", c.Host(), c.EtcdPeerPort())}
			if len(n.Endpoints) != 3 {
				t.Errorf("%s: %d endpoints, want 3", n.Name, len(n.Endpoints))
			}
			for _, e := range n.Endpoints {
				want := readCert(t, filepath.Join(c.PKIDir(), files[e.Component]))
				if e.Address != addrs[e.Component] || e.ExpirationDate == nil || !e.ExpirationDate.Equal(want.NotAfter) ||
					!e.SignedByCA || !e.SANsMatch || len(e.Problems) != 0 {
					t.Errorf("%s %s: %+v; want at %s, expiring %v as %s, signed by the local CA, SANs matching, no problem",
						n.Name, e.Component, e, addrs[e.Component], want.NotAfter, files[e.Component])
				}
			}
		}
		// docs/ha.md's table and jsonpath examples: their command lines are read from the
		// doc and run by bash, with node 1's folders added.
		folders := args[2:]
		table := runDocShell(t, ctx, docBlock(t, "ha.md", "sh", "check-expiration --cluster\n"), folders)
		want := strings.Split(strings.TrimSpace(docBlock(t, "ha.md", "text", "NODE  COMPONENT  ")), "\n")
		checkDocConsole(t, "ha.md", want, doctest.OutputLines(table), docAddressVariable...)
		jp := runDocShell(t, ctx, docBlock(t, "ha.md", "sh", "check-expiration --cluster -o jsonpath="), folders)
		var wantJP strings.Builder
		for _, n := range info.Nodes {
			fmt.Fprintf(&wantJP, "%s\t%s\n", n.Name, n.Endpoints[0].ExpirationDate.Format(time.RFC3339))
		}
		if jp != wantJP.String() {
			t.Errorf("docs/ha.md's jsonpath example printed %q, want %q", jp, wantJP.String())
		}
	})

	t.Run("signer learns the nodes", func(t *testing.T) {
		admin := first.Kubeconfig("admin.conf")
		p, _ := startSignerRun(t, ctx, t.TempDir(), "--kubeconfig", admin, "--cert-dir", first.PKIDir())
		apiserverCSR := func(name, node, ip string) *certv1.CertificateSigningRequest {
			t.Helper()
			return apiserverCSROf(t, ctx, cs, h, name, node, ip)
		}
		approveCmd := func(name string) (string, error) {
			return runCertctl(t, ctx, "approve", name, "--kubeconfig", admin)
		}

		logData, err := os.ReadFile(p.log)
		if err != nil {
			t.Fatal(err)
		}
		if want := "[signer] Control-plane nodes from the cluster, followed while running: cp-1=127.0.0.1, cp-2=127.0.0.2, cp-3=127.0.0.3"; !strings.Contains(string(logData), want) {
			t.Errorf("signer run does not say %q:\n%s", want, logData)
		}
		req := apiserverCSR("e2e-learned-cp-2", "cp-2", "127.0.0.2")
		if out, err := approveCmd(req.Name); err != nil || !strings.Contains(out, "fits the apiserver certificate") {
			t.Fatalf("certctl approve of cp-2's apiserver CSR, without --control-plane-node: %v\n%s", err, out)
		}
		done := waitCSR(t, ctx, cs, req.Name, func(c *certv1.CertificateSigningRequest) bool {
			return issued(c) || hasCondition(c, certv1.CertificateFailed) != nil
		})
		if f := hasCondition(done, certv1.CertificateFailed); f != nil {
			t.Fatalf("signer run refused cp-2's apiserver CSR: %s: %s (log %s)", f.Reason, f.Message, p.log)
		}
		cert := verifyChain(t, done.Status.Certificate, filepath.Join(first.PKIDir(), "ca.crt"), x509.ExtKeyUsageServerAuth)
		if !slices.Contains(cert.DNSNames, "cp-2") || !slices.ContainsFunc(cert.IPAddresses, func(ip net.IP) bool { return ip.String() == "127.0.0.2" }) {
			t.Errorf("issued certificate: DNS %q IPs %v, want cp-2 and 127.0.0.2", cert.DNSNames, cert.IPAddresses)
		}

		// cp-9 is not in the cluster: refused by approve, and failed by the signer when approved anyway.
		early := apiserverCSR("e2e-unknown-cp-9", "cp-9", "127.0.0.9")
		if out, err := approveCmd(early.Name); err == nil {
			t.Fatalf("certctl approve accepted the apiserver CSR of cp-9, which the cluster does not list:\n%s", out)
		}
		approve(t, ctx, cs, early)
		failed := waitCSR(t, ctx, cs, early.Name, func(c *certv1.CertificateSigningRequest) bool {
			return hasCondition(c, certv1.CertificateFailed) != nil || issued(c)
		})
		if issued(failed) {
			t.Fatalf("signer run signed the apiserver CSR of cp-9, which the cluster does not list")
		}

		// Once cp-9 is a control-plane Node, the running signer issues its certificate.
		registerNode(t, ctx, cs, "cp-9", "127.0.0.9")
		deadline := time.Now().Add(30 * time.Second)
		for i := 0; ; i++ {
			late := apiserverCSR(fmt.Sprintf("e2e-joined-cp-9-%d", i), "cp-9", "127.0.0.9")
			approve(t, ctx, cs, late)
			got := waitCSR(t, ctx, cs, late.Name, func(c *certv1.CertificateSigningRequest) bool {
				return hasCondition(c, certv1.CertificateFailed) != nil || issued(c)
			})
			if issued(got) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("signer run still refuses cp-9's apiserver CSR 30s after its Node was added: %s (log %s)", hasCondition(got, certv1.CertificateFailed).Message, p.log)
			}
			sleepOrFail(t, ctx, 500*time.Millisecond, "the signer to learn cp-9")
		}
		if out, err := approveCmd(apiserverCSR("e2e-joined-cp-9-approve", "cp-9", "127.0.0.9").Name); err != nil {
			t.Errorf("certctl approve refused cp-9's apiserver CSR after its Node was added: %v\n%s", err, out)
		}
	})

	// A node with two network cards: its kubelet reports InternalIP 127.0.0.7, while kubeadm
	// advertises kube-apiserver and etcd on fd00::7, as its mirror pods say. The request renew
	// --use-api makes there (with the advertise address) is approved and signed; one at an
	// address in neither is refused.
	t.Run("signer accepts the advertise address of the mirror pods", func(t *testing.T) {
		registerNode(t, ctx, cs, "cp-7", "127.0.0.7")
		registerMirrorPods(t, ctx, cs, "cp-7", "[fd00::7]:6443", "https://[fd00::7]:2379")
		admin := first.Kubeconfig("admin.conf")
		p, _ := startSignerRun(t, ctx, t.TempDir(), "--kubeconfig", admin, "--cert-dir", first.PKIDir())
		logData, err := os.ReadFile(p.log)
		if err != nil {
			t.Fatal(err)
		}
		if want := "cp-7=127.0.0.7+fd00::7"; !strings.Contains(string(logData), want) {
			t.Errorf("signer run does not name %q among the control-plane nodes:\n%s", want, logData)
		}

		req := apiserverCSROf(t, ctx, cs, h, "e2e-advertised-cp-7", "cp-7", "fd00::7")
		if out, err := runCertctl(t, ctx, "approve", req.Name, "--kubeconfig", admin); err != nil || !strings.Contains(out, "fits the apiserver certificate") {
			t.Fatalf("certctl approve of cp-7's apiserver CSR at its advertise address fd00::7: %v\n%s", err, out)
		}
		done := waitCSR(t, ctx, cs, req.Name, func(c *certv1.CertificateSigningRequest) bool {
			return issued(c) || hasCondition(c, certv1.CertificateFailed) != nil
		})
		if f := hasCondition(done, certv1.CertificateFailed); f != nil {
			t.Fatalf("signer run refused cp-7's apiserver CSR at its advertise address: %s: %s (log %s)", f.Reason, f.Message, p.log)
		}
		cert := verifyChain(t, done.Status.Certificate, filepath.Join(first.PKIDir(), "ca.crt"), x509.ExtKeyUsageServerAuth)
		if !slices.ContainsFunc(cert.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.ParseIP("fd00::7")) }) {
			t.Errorf("issued certificate: IPs %v, want fd00::7", cert.IPAddresses)
		}

		stray := apiserverCSROf(t, ctx, cs, h, "e2e-stray-cp-7", "cp-7", "fd00::77")
		if out, err := runCertctl(t, ctx, "approve", stray.Name, "--kubeconfig", admin); err == nil {
			t.Fatalf("certctl approve accepted cp-7's apiserver CSR at fd00::77, neither its InternalIP nor its advertise address:\n%s", out)
		}
		approve(t, ctx, cs, stray)
		failed := waitCSR(t, ctx, cs, stray.Name, func(c *certv1.CertificateSigningRequest) bool {
			return issued(c) || hasCondition(c, certv1.CertificateFailed) != nil
		})
		if f := hasCondition(failed, certv1.CertificateFailed); f == nil || f.Reason != "SANNotAllowed" {
			t.Errorf("signer run on cp-7's apiserver CSR at fd00::77: issued %v, condition %+v; want Failed with SANNotAllowed", issued(failed), f)
		}
	})
}

// apiserverCSROf creates the CSR of node's apiserver certificate at advertise address ip: node 2's,
// with node's name and ip instead of node 2's when node is another.
func apiserverCSROf(t *testing.T, ctx context.Context, cs kubernetes.Interface, h *testcluster.HA, name, node, ip string) *certv1.CertificateSigningRequest {
	t.Helper()
	c := h.Node(2)
	prof := pki.ProfileFromCert("apiserver", "apiserver", pki.CAName, readCert(t, filepath.Join(c.PKIDir(), "apiserver.crt")))
	if node != c.NodeName() { // another node's profile: its name and address instead of cp-2's
		prof.DNSNames = slices.Replace(slices.Clone(prof.DNSNames), slices.Index(prof.DNSNames, c.NodeName()), slices.Index(prof.DNSNames, c.NodeName())+1, node)
		for i, a := range prof.IPs {
			if a.String() == c.Host() {
				prof.IPs = slices.Clone(prof.IPs)
				prof.IPs[i] = netIP(t, ip)
			}
		}
	}
	return createCSR(t, ctx, cs, name, signer.KubeAPIServerServing, prof, newKey(t), serverUsages)
}

func netIP(t *testing.T, s string) net.IP {
	t.Helper()
	ip := net.ParseIP(s)
	if ip == nil {
		t.Fatalf("bad IP %q", s)
	}
	if v4 := ip.To4(); v4 != nil {
		return v4
	}
	return ip
}
