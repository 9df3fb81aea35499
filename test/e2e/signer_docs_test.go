package e2e

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/cmd"
	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

const docsMarker = "<!-- test/e2e/signer_docs_test.go applies this block"

// docsObjects decodes the YAML blocks of docs/signer.md that follow docsMarker.
func docsObjects(t *testing.T) []runtime.Object {
	t.Helper()
	root, err := testcluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "docs", "signer.md"))
	if err != nil {
		t.Fatal(err)
	}
	var objs []runtime.Object
	blocks := strings.Split(string(data), docsMarker)[1:]
	if len(blocks) != 2 {
		t.Fatalf("docs/signer.md has %d blocks marked for this test, want 2 (RBAC of the approver; the signer's Deployment)", len(blocks))
	}
	for _, b := range blocks {
		_, rest, ok := strings.Cut(b, "```yaml\n")
		body, _, ok2 := strings.Cut(rest, "```")
		if !ok || !ok2 {
			t.Fatal("docs/signer.md: a marked block is not followed by a ```yaml block")
		}
		for _, doc := range strings.Split(body, "\n---\n") {
			obj, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
			if err != nil {
				t.Fatalf("docs/signer.md: decode %q: %v", doc, err)
			}
			objs = append(objs, obj)
		}
	}
	return objs
}

// TestSignerDocs applies the RBAC of docs/signer.md and acts with exactly those rights: an
// approver (a user in group certctl:approvers) runs `certctl approve` for certctl's and the
// built-in client signer name, and may not approve for a signer name it was not given; `certctl signer run` runs with the documented ServiceAccount's
// token and leader election, and signs. The Deployment's arguments are certctl's flags.
// Then the console of `certctl approve` and the log lines of a CA reload under `certctl signer
// run` are compared with what certctl prints (approveDocsConsole, caReloadDocsLog).
func TestSignerDocs(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 3*time.Minute)
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	var probes corev1.Container // the Deployment's container, for its probes
	for _, obj := range docsObjects(t) {
		switch o := obj.(type) {
		case *corev1.ServiceAccount:
			_, err = cs.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.ClusterRole:
			_, err = cs.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.ClusterRoleBinding:
			_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.Role:
			_, err = cs.RbacV1().Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			_, err = cs.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *appsv1.Deployment:
			probes = o.Spec.Template.Spec.Containers[0]
			args := o.Spec.Template.Spec.Containers[0].Args
			run, _, ferr := cmd.NewRootCommand(nil, nil).Find(args[:2])
			if ferr != nil || run.Name() != "run" {
				t.Fatalf("the Deployment runs %q, not certctl signer run: %v", args, ferr)
			}
			err = run.Flags().Parse(args[2:])
		default:
			t.Fatalf("docs/signer.md has an unexpected %T", obj)
		}
		if err != nil {
			t.Fatalf("apply %T from docs/signer.md: %v", obj, err)
		}
	}
	dir := t.TempDir()
	flags := c.PKI().Flags()

	// The approver: a user of group certctl:approvers, with a client certificate of the cluster CA.
	ca := loadIssuer(t, c, "ca")
	pair := ca.clientCert(t, pkix.Name{CommonName: "e2e-approver", Organization: []string{"certctl:approvers"}})
	approverConf := filepath.Join(dir, "approver.conf")
	keyPEM, err := pki.MarshalPrivateKey(pair.PrivateKey.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pair.Certificate[0]})
	writeKubeconfig(t, approverConf, c, &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM})

	peer := pki.ProfileFromCert("etcd-peer", "etcd/peer", "", readCert(t, filepath.Join(c.PKIDir(), "etcd", "peer.crt")))
	req := createCSR(t, ctx, cs, "e2e-docs-etcd-peer", signer.EtcdPeer, peer, newKey(t), bothUsages)
	if out, err := runCertctl(t, ctx, append([]string{"approve", req.Name, "--kubeconfig", approverConf}, flags...)...); err != nil {
		t.Fatalf("approve as certctl:approvers: %v\n%s", err, out)
	} else if strings.Contains(out, podsRefused) || strings.Contains(out, "read kube-system/kubeadm-config") {
		t.Errorf("the approver role of docs/signer.md does not let approve learn the nodes (the mirror pods' addresses, kubeadm-config):\n%s", out)
	}
	admin := createCSR(t, ctx, cs, "e2e-docs-builtin", certv1.KubeAPIServerClientSignerName,
		pki.Profile{CommonName: "kubernetes-admin", Organization: []string{pki.ClusterAdminsGroup}}, newKey(t), clientUsages)
	if out, err := runCertctl(t, ctx, append([]string{"approve", admin.Name, "--kubeconfig", approverConf}, flags...)...); err != nil {
		t.Fatalf("approve admin.conf for kubernetes.io/kube-apiserver-client as certctl:approvers: %v\n%s", err, out)
	}
	kubelet := createCSR(t, ctx, cs, "e2e-docs-kubelet", certv1.KubeAPIServerClientKubeletSignerName,
		pki.Profile{CommonName: pki.NodesUserPrefix + testcluster.NodeName, Organization: []string{pki.NodesGroup}}, newKey(t), clientUsages)
	if out, err := runCertctl(t, ctx, append([]string{"approve", kubelet.Name, "--kubeconfig", approverConf}, flags...)...); err == nil || !strings.Contains(out, "forbidden") {
		t.Errorf("the approver approved for kubernetes.io/kube-apiserver-client-kubelet, which the role does not grant: %v\n%s", err, out)
	}

	// The signer, with the ServiceAccount's token.
	tok, err := cs.CoreV1().ServiceAccounts("kube-system").CreateToken(ctx, "certctl-signer", &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	signerConf := filepath.Join(dir, "signer.conf")
	writeKubeconfig(t, signerConf, c, &clientcmdapi.AuthInfo{Token: tok.Status.Token})
	p, base := startSignerRun(t, ctx, dir, append([]string{"--kubeconfig", signerConf, "--cert-dir", c.PKIDir(), "--leader-elect"}, flags...)...)
	done := waitCSR(t, ctx, cs, req.Name, issued)
	// The Deployment's probes: liveness on /healthz, readiness on /readyz, both served ok by the
	// signer running with its role (test/e2e/signer_ready_test.go: what each says with the API
	// server down).
	for what, pr := range map[string]*corev1.Probe{"/healthz": probes.LivenessProbe, "/readyz": probes.ReadinessProbe} {
		if pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Path != what {
			t.Errorf("the Deployment of docs/signer.md: probe %+v, want an httpGet of %s", pr, what)
			continue
		}
		if code, body := probe(base + pr.HTTPGet.Path); code != http.StatusOK || body != "ok" {
			t.Errorf("the Deployment's probe %s: %d %q, want 200 ok", pr.HTTPGet.Path, code, body)
		}
	}
	if log, err := os.ReadFile(p.log); err != nil || strings.Contains(string(log), podsRefused) {
		t.Errorf("the signer's role of docs/signer.md does not let signer run follow the mirror pods' addresses (%v):\n%s", err, log)
	}
	verifyChain(t, done.Status.Certificate, filepath.Join(c.PKIDir(), "etcd", "ca.crt"), x509.ExtKeyUsageServerAuth)
	lease, err := cs.CoordinationV1().Leases("kube-system").Get(ctx, "certctl-signer", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil {
		t.Errorf("Lease kube-system/certctl-signer: %v", err)
	}

	// On the same cluster, the document's console of approve and log of signer run.
	t.Run("approve console", func(t *testing.T) { approveDocsConsole(t, ctx, c, cs) })
	t.Run("CA reload log", func(t *testing.T) { caReloadDocsLog(t, ctx, c) })
}

// podsRefused begins what approve and signer run say when they may not list kube-system's pods.
const podsRefused = "list the kube-apiserver and etcd pods in kube-system"

// writeKubeconfig writes a kubeconfig for the cluster's API server with the given user.
func writeKubeconfig(t *testing.T, path string, c *testcluster.Cluster, user *clientcmdapi.AuthInfo) {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(c.PKIDir(), "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := kubeconfig.Build("e2e", c.URL(testcluster.APIServer), "user", caPEM, nil, nil)
	cfg.AuthInfos["user"] = user
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
}

const seedMarker = "<!-- test/e2e/signer_docs_test.go runs this block"

// seedScript returns the shell blocks of docs/signer.md marked with seedMarker, in order: the
// unqualified ones and those marked "with " + tool, joined into one script.
func seedScript(t *testing.T, tool string) string {
	t.Helper()
	root, err := testcluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "docs", "signer.md"))
	if err != nil {
		t.Fatal(err)
	}
	var script []string
	branches := map[string]int{}
	for _, b := range strings.Split(string(data), seedMarker)[1:] {
		qual, rest, ok := strings.Cut(b, "-->\n")
		if !ok {
			t.Fatal("docs/signer.md: a marker of this test is not closed on its line")
		}
		qual = strings.TrimSpace(qual)
		_, rest, ok = strings.Cut(rest, "```bash\n")
		body, _, ok2 := strings.Cut(rest, "```")
		if !ok || !ok2 {
			t.Fatal("docs/signer.md: a marker of this test is not followed by a ```bash block")
		}
		branches[qual]++
		if qual == "" || qual == "with "+tool {
			script = append(script, body)
		}
	}
	if branches[""] < 4 || branches["with cfssl"] != 2 || branches["with openssl"] != 2 {
		t.Fatalf("docs/signer.md: marked blocks %v, want the common steps and two each with cfssl and with openssl", branches)
	}
	return strings.Join(script, "\n")
}

// TestSignerDocsSeed runs docs/signer.md's "As a controller" flow as written, with bash: the
// Kubernetes documentation's example.com/serving scenario with certctl signer run as the
// signer, kubectl as the client, and cfssl (where installed, Debian golang-cfssl) or openssl
// for the CA, the key and the CSR. The certificate it downloads is checked here too: the
// CSR's subject and SANs, serverAuth, CA:FALSE, Subject and Authority Key Identifiers.
func TestSignerDocsSeed(t *testing.T) {
	for _, tool := range []string{"bash", "openssl", "base64"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run hack/setup.sh", tool)
		}
	}
	tool := "openssl"
	if _, err := exec.LookPath("cfssl"); err == nil {
		if _, err := exec.LookPath("cfssljson"); err == nil {
			tool = "cfssl"
		}
	}
	t.Logf("running the doc's %s branch (cfssl is used where cfssl and cfssljson are installed)", tool)
	script := seedScript(t, tool)

	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 3*time.Minute)
	kubectl, err := c.Kubectl()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := testcluster.CertctlBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Whatever the script leaves running (the signer, when a step fails) ends with it.
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n"+script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+c.Kubeconfig("admin.conf"),
		"PATH="+filepath.Dir(kubectl)+string(os.PathListSeparator)+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if filepath.Base(bin) != "certctl" {
		t.Fatalf("the certctl under test is %s: the doc runs `certctl`", bin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docs/signer.md's blocks (%s): %v\n%s", tool, err, out)
	}
	t.Logf("script output:\n%s", out)
	data, err := os.ReadFile(filepath.Join(dir, "server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	cert := verifyChain(t, data, filepath.Join(dir, "ca.pem"), x509.ExtKeyUsageServerAuth)
	if cert.Subject.CommonName != "my-pod.my-namespace.pod.cluster.local" {
		t.Errorf("CN %q", cert.Subject.CommonName)
	}
	if !slices.Equal(cert.DNSNames, []string{"my-svc.my-namespace.svc.cluster.local", "my-pod.my-namespace.pod.cluster.local"}) ||
		len(cert.IPAddresses) != 1 || cert.IPAddresses[0].String() != "192.0.2.24" {
		t.Errorf("SANs %v %v, want the CSR's", cert.DNSNames, cert.IPAddresses)
	}
	if cert.IsCA || len(cert.SubjectKeyId) == 0 || len(cert.AuthorityKeyId) == 0 {
		t.Errorf("IsCA %v, SKI %x, AKI %x; want CA:FALSE with both key identifiers", cert.IsCA, cert.SubjectKeyId, cert.AuthorityKeyId)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "server-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.KeyMatches(cert, key); err != nil {
		t.Errorf("server.crt does not match server-key.pem: %v", err)
	}
}

const manualMarker = "<!-- test/e2e/signer_docs_test.go TestSignerDocsManual "

// manualBlocks returns the blocks of docs/signer.md marked with manualMarker: the
// "With certctl the same steps are" script and the signing configuration it reads.
func manualBlocks(t *testing.T) (script, signingConfig string) {
	t.Helper()
	root, err := testcluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "docs", "signer.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, b := range strings.Split(string(data), manualMarker)[1:] {
		_, rest, ok := strings.Cut(b, "-->\n```")
		_, rest, ok1 := strings.Cut(rest, "\n")
		body, _, ok2 := strings.Cut(rest, "```")
		if !ok || !ok1 || !ok2 {
			t.Fatal("docs/signer.md: a TestSignerDocsManual marker is not followed by a code block")
		}
		blocks = append(blocks, body)
	}
	if len(blocks) != 2 {
		t.Fatalf("docs/signer.md has %d blocks marked for TestSignerDocsManual, want 2 (the script, the signing configuration)", len(blocks))
	}
	return blocks[0], blocks[1]
}

// TestSignerDocsManual runs docs/signer.md's "With certctl the same steps are" script as
// written, with bash, against a real API server: openssl and kubectl make and approve the
// CSR of the Kubernetes documentation's example.com/serving, `certctl sign` signs it with
// an openssl CA and the documentation's signing configuration, and kubectl fetches it. No
// test ran it: the help examples' check only knows that it needs an API server.
func TestSignerDocsManual(t *testing.T) {
	for _, tool := range []string{"bash", "openssl", "base64"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run hack/setup.sh", tool)
		}
	}
	script, signingConfig := manualBlocks(t)
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 2*time.Minute)
	kubectl, err := c.Kubectl()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := testcluster.CertctlBinary()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(bin) != "certctl" {
		t.Fatalf("the certctl under test is %s: the doc runs `certctl`", bin)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "server-signing-config.json"), []byte(signingConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	// The CA as the document's "or with openssl" block makes it: ca.pem and ca-key.pem.
	ca := `openssl req -x509 -new -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 1825 -subj "/CN=My Example Signer" -addext "keyUsage=critical,keyCertSign,cRLSign"` + "\n"
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\n"+ca+script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+c.Kubeconfig("admin.conf"),
		"PATH="+filepath.Dir(kubectl)+string(os.PathListSeparator)+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docs/signer.md's manual signer script: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `[sign] CSR my-svc.my-namespace (signer example.com/serving) signed by "My Example Signer"`) {
		t.Errorf("certctl sign did not say what it signed:\n%s", out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	cert := verifyChain(t, data, filepath.Join(dir, "ca.pem"), x509.ExtKeyUsageServerAuth)
	if cert.Subject.CommonName != "my-pod.my-namespace.pod.cluster.local" || !slices.Equal(cert.DNSNames, []string{"my-svc.my-namespace.svc.cluster.local"}) {
		t.Errorf("server.crt: CN %q, SANs %v; want the CSR's", cert.Subject.CommonName, cert.DNSNames)
	}
	if cert.IsCA {
		t.Error("server.crt is a CA certificate; the signing configuration says is_ca: false")
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.KeyMatches(cert, key); err != nil {
		t.Errorf("server.crt does not match server.key: %v", err)
	}
}
