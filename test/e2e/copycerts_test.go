package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/pki"
)

// sharedPKI are the files of a stacked-etcd control plane that kubeadm-certs carries.
var sharedPKI = []string{"ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.pub", "sa.key", "etcd/ca.crt", "etcd/ca.key"}

// TestCopyCertsKubeadm proves with the real kubeadm v1.37 that certctl's kubeadm-certs Secret is
// kubeadm's, both ways: what `kubeadm init phase upload-certs` stores, `certctl certs download`
// writes byte for byte; what `certctl certs upload` stores, `kubeadm join phase
// control-plane-prepare download-certs` writes byte for byte; and the objects each makes (the
// Secret's entries and owner, the token, the Role and RoleBinding) have the same shape; and the
// joining node's own certificates from `certctl init-phase certs all` with the JoinConfiguration
// are those of `kubeadm join phase control-plane-prepare certs` (subject, SANs, usages). First it
// runs docs/ha.md's two blocks as a user would, with a bootstrap token made by kubeadm.
func TestCopyCertsKubeadm(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 5*time.Minute)
	kubeBin, err := testcluster.BinDir("", "kubeadm")
	if err != nil {
		t.Fatal(err)
	}
	kubeadm := filepath.Join(kubeBin, "kubeadm")
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	admin := c.Kubeconfig(pki.AdminKubeconfig)
	work := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(work, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newKey := func(t *testing.T) string {
		t.Helper()
		return strings.TrimSpace(run(t, ctx, "", nil, certctlBin(t), "certs", "certificate-key"))
	}

	// First, on a cluster where kubeadm has made nothing: the bootstrap token's download of
	// docs/ha.md then proves that certctl's Role and RoleBinding let it read the Secret.
	t.Run("docs/ha.md", func(t *testing.T) {
		testJoinDocs(t, ctx, c, kubeBin)
	})

	var kubeadmObjects objectShapes
	t.Run("kubeadm upload-certs, certctl download", func(t *testing.T) {
		key := newKey(t)
		// --certificate-key may not be mixed with --config: it is the InitConfiguration's.
		cfg := write("init.yaml", `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
certificateKey: `+key+`
localAPIEndpoint:
  advertiseAddress: 198.51.100.10
nodeRegistration:
  name: `+c.NodeName()+`
  criSocket: unix:///var/run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: `+testcluster.KubeVersion+`
certificatesDir: `+c.PKIDir()+`
`)
		run(t, ctx, "", nil, kubeadm, "init", "phase", "upload-certs", "--upload-certs", "--config", cfg, "--kubeconfig", admin)
		kubeadmObjects = shapes(t, ctx, cs)

		dst := filepath.Join(t.TempDir(), "pki")
		run(t, ctx, "", nil, certctlBin(t), "certs", "download", "--certificate-key", key, "--cert-dir", dst, "--kubeconfig", admin)
		assertSameFiles(t, c.PKIDir(), dst, sharedPKI)
		// The lock file keeps the command line of its last holder: not
		// the key, which with the Secret opens the CAs' keys.
		if l, err := os.ReadFile(filepath.Join(filepath.Dir(dst), lock.FileName)); err != nil || strings.Contains(string(l), key) || !strings.Contains(string(l), "--certificate-key <masked>") {
			t.Errorf("lock file after certs download: %v\n%s\nwant the key masked", err, l)
		}
		// Again: identical files are kept.
		out := run(t, ctx, "", nil, certctlBin(t), "certs", "download", "--certificate-key", key, "--cert-dir", dst, "--kubeconfig", admin)
		if !strings.Contains(out, "Every file is there already") {
			t.Errorf("second download:\n%s", out)
		}
		// The key on standard input (--certificate-key -), where ps does
		// not show it: the same files.
		viaStdin := filepath.Join(t.TempDir(), "pki")
		stdinCmd := exec.CommandContext(ctx, certctlBin(t), "certs", "download", "--certificate-key", "-", "--cert-dir", viaStdin, "--kubeconfig", admin)
		stdinCmd.Stdin = strings.NewReader(key + "\n")
		if out, err := stdinCmd.CombinedOutput(); err != nil {
			t.Fatalf("certs download --certificate-key - with the key on standard input: %v\n%s", err, out)
		}
		assertSameFiles(t, c.PKIDir(), viaStdin, sharedPKI)

		// A wrong key: one line, nothing written.
		none := filepath.Join(t.TempDir(), "pki")
		cmd := exec.CommandContext(ctx, certctlBin(t), "certs", "download", "--certificate-key", newKey(t), "--cert-dir", none, "--kubeconfig", admin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err == nil {
			t.Errorf("download with a wrong key succeeded")
		}
		if msg := strings.TrimSpace(stderr.String()); !strings.Contains(msg, "the certificate key does not decrypt kubeadm-certs: ") || strings.Count(msg, "\n") > 0 {
			t.Errorf("wrong key: stderr %q, want one line saying the key does not decrypt kubeadm-certs", msg)
		}
		if _, err := os.Stat(none); !os.IsNotExist(err) {
			t.Errorf("wrong key: %s made (%v)", none, err)
		}

		// The Secret's ca.crt is compared with kube-system/kube-root-ca.crt, which
		// kube-controller-manager publishes (the harness runs none: the run says it compared
		// admin.conf's CA instead). Another cluster's CA there: refused in one line, nothing
		// written; this cluster's: downloaded, compared.
		if !strings.Contains(out, "[download-certs] Comparing ca.crt of secret kube-system/kubeadm-certs with the certificate-authority-data of kubeconfig "+admin+", which verified the API server: configmap kube-system/kube-root-ca.crt is not there") {
			t.Errorf("download without kube-root-ca.crt does not say that it compared the CA with admin.conf's:\n%s", out)
		}
		otherPKI := filepath.Join(t.TempDir(), "pki")
		run(t, ctx, "", nil, certctlBin(t), "init-phase", "certs", "ca", "--cert-dir", otherPKI)
		rootCA := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Namespace: "kube-system"},
			Data: map[string]string{"ca.crt": string(readFile(t, filepath.Join(otherPKI, "ca.crt")))}}
		if _, err := cs.CoreV1().ConfigMaps("kube-system").Create(ctx, rootCA, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		defer cs.CoreV1().ConfigMaps("kube-system").Delete(context.Background(), rootCA.Name, metav1.DeleteOptions{})
		refused := filepath.Join(t.TempDir(), "pki")
		cmd = exec.CommandContext(ctx, certctlBin(t), "certs", "download", "--certificate-key", key, "--cert-dir", refused, "--kubeconfig", admin)
		stderr.Reset()
		cmd.Stderr = &stderr
		if err := cmd.Run(); err == nil {
			t.Errorf("download of a Secret whose CA is not kube-root-ca.crt's succeeded")
		}
		if msg := strings.TrimSpace(stderr.String()); !strings.Contains(msg, "is not the CA of the cluster the kubeconfig reaches") || strings.Count(msg, "\n") > 0 {
			t.Errorf("another cluster's CA in kube-root-ca.crt: stderr %q, want one line saying the Secret's CA is not the cluster's", msg)
		}
		if _, err := os.Stat(refused); !os.IsNotExist(err) {
			t.Errorf("refused download: %s made (%v)", refused, err)
		}
		rootCA.Data["ca.crt"] = string(readFile(t, filepath.Join(c.PKIDir(), "ca.crt")))
		if _, err := cs.CoreV1().ConfigMaps("kube-system").Update(ctx, rootCA, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if out := run(t, ctx, "", nil, certctlBin(t), "certs", "download", "--certificate-key", key, "--cert-dir", filepath.Join(t.TempDir(), "pki"), "--kubeconfig", admin); strings.Contains(out, "omparing") {
			t.Errorf("download with this cluster's kube-root-ca.crt did not compare it alone:\n%s", out)
		}
	})

	t.Run("bootstrap token: the Secret's CA compared with the kubeconfig's", func(t *testing.T) {
		testBootstrapTokenCA(t, ctx, c, kubeadm, cs)
	})

	t.Run("certctl upload, kubeadm join download-certs", func(t *testing.T) {
		if kubeadmObjects == nil {
			t.Fatal("kubeadm's objects were not read: the previous subtest failed")
		}
		key := newKey(t)
		run(t, ctx, "", nil, certctlBin(t), "certs", "upload", "--certificate-key", key, "--cert-dir", c.PKIDir(), "--kubeconfig", admin)
		if got := shapes(t, ctx, cs); !slices.Equal(got, kubeadmObjects) {
			t.Errorf("certctl's objects differ from kubeadm's:\ncertctl: %q\nkubeadm: %q", got, kubeadmObjects)
		}

		// kubeadm join reads the certificate folder from the cluster's kubeadm-config, the
		// kubelet's configuration (which must exist), and kube-public/cluster-info (discovery
		// retries until it is there): what kubeadm init uploads, made here for a folder of ours.
		dst := filepath.Join(t.TempDir(), "pki")
		makeJoinConfigMaps(t, ctx, cs, dst, c.URL(testcluster.APIServer), c.PKIDir())
		join := write("join.yaml", `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  file:
    kubeConfigPath: `+admin+`
nodeRegistration:
  name: cp-join
  criSocket: unix:///var/run/containerd/containerd.sock
controlPlane:
  certificateKey: `+key+`
  localAPIEndpoint:
    advertiseAddress: 198.51.100.12
timeouts:
  discovery: 1m0s
  kubernetesAPICall: 1m0s
`)
		run(t, ctx, "", nil, kubeadm, "join", "phase", "control-plane-prepare", "download-certs", "--config", join)
		assertSameFiles(t, c.PKIDir(), dst, sharedPKI)

		// The joining node's own certificates: kubeadm join's certs phase (into the same folder,
		// from the downloaded CAs) and certctl's init-phase with the same JoinConfiguration and
		// the cluster's ClusterConfiguration make the same certificates.
		run(t, ctx, "", nil, kubeadm, "join", "phase", "control-plane-prepare", "certs", "--config", join)
		mine := filepath.Join(t.TempDir(), "pki")
		run(t, ctx, "", nil, certctlBin(t), "certs", "download", "--certificate-key", key, "--cert-dir", mine, "--kubeconfig", admin)
		mineCfg := write("certctl-join.yaml", string(readFile(t, join))+"---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: "+mine+"\n")
		run(t, ctx, "", nil, certctlBin(t), "init-phase", "certs", "all", "--config", mineCfg)
		for _, leaf := range []string{"apiserver", "apiserver-kubelet-client", "front-proxy-client", "etcd/server", "etcd/peer", "etcd/healthcheck-client", "apiserver-etcd-client"} {
			want := describeLeaf(readCert(t, filepath.Join(dst, leaf+".crt")))
			got := describeLeaf(readCert(t, filepath.Join(mine, leaf+".crt")))
			if !slices.Equal(got, want) {
				t.Errorf("%s of the joining node:\nkubeadm: %q\ncertctl: %q", leaf, want, got)
			}
		}
	})

}

// testBootstrapTokenCA: a bootstrap token may not get kube-system/kube-root-ca.crt (the
// harness publishes it here, with this cluster's CA, as kube-controller-manager would), so
// certs download through docs/ha.md's bootstrap kubeconfig compared nothing and wrote a Secret
// that kubeadm uploaded from another cluster's folder. It now compares the Secret's ca.crt with
// the kubeconfig's certificate-authority-data, which verified the API server: another
// cluster's is refused in one line, nothing written; this cluster's is downloaded.
func testBootstrapTokenCA(t *testing.T, ctx context.Context, c *testcluster.Cluster, kubeadm string, cs kubernetes.Interface) {
	admin := c.Kubeconfig(pki.AdminKubeconfig)
	rootCA := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Namespace: "kube-system"},
		Data: map[string]string{"ca.crt": string(readFile(t, filepath.Join(c.PKIDir(), "ca.crt")))}}
	if _, err := cs.CoreV1().ConfigMaps("kube-system").Create(ctx, rootCA, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer cs.CoreV1().ConfigMaps("kube-system").Delete(context.Background(), rootCA.Name, metav1.DeleteOptions{})
	work := t.TempDir()
	token := strings.TrimSpace(run(t, ctx, "", nil, kubeadm, "token", "create", "--kubeconfig", admin))
	bootstrap := filepath.Join(work, "bootstrap.conf")
	conf := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: bootstrap
  user:
    token: %s
contexts:
- name: bootstrap
  context:
    cluster: kubernetes
    user: bootstrap
current-context: bootstrap
`, c.URL(testcluster.APIServer), base64.StdEncoding.EncodeToString(readFile(t, filepath.Join(c.PKIDir(), "ca.crt"))), token)
	if err := os.WriteFile(bootstrap, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// Another cluster's folder: this cluster's files but for a CA of its own.
	otherPKI := filepath.Join(work, "other-pki")
	for _, name := range sharedPKI {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(otherPKI, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "ca.") {
			if err := os.WriteFile(filepath.Join(otherPKI, name), readFile(t, filepath.Join(c.PKIDir(), name)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(t, ctx, "", nil, certctlBin(t), "init-phase", "certs", "ca", "--cert-dir", otherPKI)
	// kubeadm uploads whatever folder it is given: kubeadm-certs now holds the other CA.
	uploadFrom := func(certDir string) string {
		key := strings.TrimSpace(run(t, ctx, "", nil, certctlBin(t), "certs", "certificate-key"))
		cfg := filepath.Join(work, "init.yaml")
		if err := os.WriteFile(cfg, []byte(`apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
certificateKey: `+key+`
nodeRegistration:
  name: `+c.NodeName()+`
  criSocket: unix:///var/run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: `+testcluster.KubeVersion+`
certificatesDir: `+certDir+`
`), 0o600); err != nil {
			t.Fatal(err)
		}
		run(t, ctx, "", nil, kubeadm, "init", "phase", "upload-certs", "--upload-certs", "--config", cfg, "--kubeconfig", admin)
		return key
	}

	key := uploadFrom(otherPKI)
	refused := filepath.Join(t.TempDir(), "pki")
	cmd := exec.CommandContext(ctx, certctlBin(t), "certs", "download", "--certificate-key", key, "--cert-dir", refused, "--kubeconfig", bootstrap)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err == nil {
		t.Errorf("download through a bootstrap token of a Secret uploaded from another cluster's folder succeeded:\n%s", stdout.String())
	}
	t.Logf("refused download:\n%s%s", stdout.String(), stderr.String())
	// The bootstrap token really may not get kube-root-ca.crt, as the line says.
	if want := "[download-certs] Comparing ca.crt of secret kube-system/kubeadm-certs with the certificate-authority-data of kubeconfig " + bootstrap + ", which verified the API server: the kubeconfig's user may not get configmap kube-system/kube-root-ca.crt"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	if msg := strings.TrimSpace(stderr.String()); !strings.Contains(msg, "is not the CA of the cluster the kubeconfig reaches: the certificate-authority-data of kubeconfig "+bootstrap+", which verified the API server, holds another") ||
		!strings.Contains(msg, "nothing was written") || strings.Count(msg, "\n") > 0 {
		t.Errorf("stderr %q, want one line saying the Secret's CA is not the bootstrap kubeconfig's", msg)
	}
	if _, err := os.Stat(refused); !os.IsNotExist(err) {
		t.Errorf("refused download: %s made (%v)", refused, err)
	}

	key = uploadFrom(c.PKIDir())
	dst := filepath.Join(t.TempDir(), "pki")
	run(t, ctx, "", nil, certctlBin(t), "certs", "download", "--certificate-key", key, "--cert-dir", dst, "--kubeconfig", bootstrap)
	assertSameFiles(t, c.PKIDir(), dst, sharedPKI)
}

// testJoinDocs runs docs/ha.md's blocks: the first on the cluster's node, the second on a new
// node's folder, with the same working folder (bootstrap.conf copied) and key. Every path of the
// doc is under /etc/kubernetes, replaced by the test's folders, and every command names its
// folders: the test fails if /etc/kubernetes appears.
func testJoinDocs(t *testing.T, ctx context.Context, c *testcluster.Cluster, kubeBin string) {
	first := docBlock(t, "ha.md", "sh", "# On a control-plane node of the cluster")
	second := docBlock(t, "ha.md", "sh", "# On the node that joins")
	joining := filepath.Join(t.TempDir(), "etc", "kubernetes")
	work := t.TempDir()
	env := []string{"PATH=" + filepath.Dir(certctlBin(t)) + string(os.PathListSeparator) + kubeBin + string(os.PathListSeparator) + os.Getenv("PATH")}
	script := func(block, etc string) string {
		s := strings.ReplaceAll(block, "/etc/kubernetes", etc)
		s = strings.ReplaceAll(s, "https://cp.example.com:6443", c.URL(testcluster.APIServer))
		return "set -euo pipefail\nsudo() { \"$@\"; }\n" + s
	}
	// A command of the doc that left a folder to its default would write the real one.
	if _, err := os.Stat("/etc/kubernetes"); os.IsNotExist(err) {
		t.Cleanup(func() {
			if _, err := os.Stat("/etc/kubernetes"); err == nil {
				t.Errorf("/etc/kubernetes was created: a command of docs/ha.md does not name its folder")
			}
		})
	}
	if filepath.Base(certctlBin(t)) != "certctl" {
		t.Fatalf("the doc runs `certctl`: %s is named otherwise", certctlBin(t))
	}
	// A usual umask: the doc's bootstrap.conf, which holds a bootstrap
	// token, must be its owner's only whatever the umask.
	run(t, ctx, work, env, "bash", "-c", "umask 022\n"+script(first, c.KubeconfigDir())+"printf '%s' \"$KEY\" > key.txt\n")
	if st, err := os.Stat(filepath.Join(work, "bootstrap.conf")); err != nil {
		t.Error(err)
	} else if st.Mode().Perm() != 0o600 {
		t.Errorf("docs/ha.md's bootstrap.conf, which holds a bootstrap token, is mode %04o: want 0600", st.Mode().Perm())
	}
	key, err := os.ReadFile(filepath.Join(work, "key.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, ctx, work, append(env, "KEY="+string(key)), "bash", "-c", script(second, joining))
	// The bootstrap token may not read kube-root-ca.crt: the Secret's CA is compared with
	// bootstrap.conf's, as docs/ha.md says.
	if want := "[download-certs] Comparing ca.crt of secret kube-system/kubeadm-certs with the certificate-authority-data of kubeconfig bootstrap.conf, which verified the API server: the kubeconfig's user may not get configmap kube-system/kube-root-ca.crt"; !strings.Contains(out, want) {
		t.Errorf("docs/ha.md's download does not say it compared the CA with bootstrap.conf's: want %q in\n%s", want, out)
	}

	pkiDir := filepath.Join(joining, "pki")
	assertSameFiles(t, c.PKIDir(), pkiDir, sharedPKI)
	// The node's own certificates, from the cluster's CA, for the node of join.yaml.
	ca := readCert(t, filepath.Join(pkiDir, "ca.crt"))
	apiserver := readCert(t, filepath.Join(pkiDir, "apiserver.crt"))
	if err := apiserver.CheckSignatureFrom(ca); err != nil {
		t.Errorf("the joining node's apiserver.crt is not signed by the cluster's CA: %v", err)
	}
	var ips []string
	for _, ip := range apiserver.IPAddresses {
		ips = append(ips, ip.String())
	}
	if !slices.Contains(ips, "192.0.2.12") || !slices.Contains(apiserver.DNSNames, "cp.example.com") || !slices.Contains(apiserver.DNSNames, "cp-2") {
		t.Errorf("apiserver.crt SANs %v %v, want join.yaml's node cp-2, 192.0.2.12 and cp.example.com", apiserver.DNSNames, ips)
	}
	if peer := readCert(t, filepath.Join(pkiDir, "etcd", "peer.crt")); peer.Subject.CommonName != "cp-2" {
		t.Errorf("etcd/peer.crt is %q's, want cp-2's", peer.Subject.CommonName)
	}
	var confs []string
	entries, _ := os.ReadDir(joining)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".conf") {
			confs = append(confs, e.Name())
		}
	}
	if want := []string{"admin.conf", "controller-manager.conf", "scheduler.conf"}; !slices.Equal(confs, want) {
		t.Errorf("kubeconfig files %v, want kubeadm join's %v", confs, want)
	}
}

// run runs name with args in dir (when set) with env added, and returns its stdout; it fails
// the test with both outputs when the command fails.
func run(t *testing.T, ctx context.Context, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	t.Logf("%s %s:\n%s%s", filepath.Base(name), strings.Join(args, " "), stdout.String(), stderr.String())
	return stdout.String()
}

// assertSameFiles fails unless every file of names is byte-identical in dirs a and b.
func assertSameFiles(t *testing.T, a, b string, names []string) {
	t.Helper()
	for _, n := range names {
		want, err := os.ReadFile(filepath.Join(a, n))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(b, n))
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s in %s differs from %s", n, b, filepath.Join(a, n))
		}
	}
}

// objectShapes describes what an upload made, without its random values, one line per fact.
type objectShapes []string

// shapes reads the kubeadm-certs Secret, the token that owns it, and the Role and RoleBinding.
func shapes(t *testing.T, ctx context.Context, cs kubernetes.Interface) objectShapes {
	t.Helper()
	const ns = "kube-system"
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, "kubeadm-certs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out objectShapes
	for k, v := range s.Data {
		out = append(out, "kubeadm-certs entry "+k+", nonce+sealed: "+boolString(len(v) > 12+16))
	}
	out = append(out, "kubeadm-certs type "+string(s.Type))
	if len(s.OwnerReferences) != 1 {
		t.Fatalf("kubeadm-certs owners %+v, want one", s.OwnerReferences)
	}
	o := s.OwnerReferences[0]
	out = append(out, "owner "+o.APIVersion+" "+o.Kind+" controller="+boolString(*o.Controller)+" blockOwnerDeletion="+boolString(*o.BlockOwnerDeletion))
	token, err := cs.CoreV1().Secrets(ns).Get(ctx, o.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("owner of kubeadm-certs: %v", err)
	}
	if token.UID != o.UID {
		t.Errorf("owner UID %s, token's %s", o.UID, token.UID)
	}
	out = append(out, "token type "+string(token.Type), "token name is bootstrap-token-ID: "+boolString(token.Name == "bootstrap-token-"+string(token.Data["token-id"])))
	for k, v := range token.Data {
		switch k {
		case "expiration":
			exp, err := time.Parse(time.RFC3339, string(v))
			ttl := time.Until(exp)
			out = append(out, "token expiration RFC3339 about 2h: "+boolString(err == nil && ttl > 110*time.Minute && ttl <= 2*time.Hour))
		case "description":
			out = append(out, "token description "+string(v))
		default:
			out = append(out, fmt.Sprintf("token %s of %d characters", k, len(v)))
		}
	}
	role, err := cs.RbacV1().Roles(ns).Get(ctx, "kubeadm:kubeadm-certs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range role.Rules {
		out = append(out, "role rule "+strings.Join(r.Verbs, ",")+" "+strings.Join(r.APIGroups, ",")+"/"+strings.Join(r.Resources, ",")+" "+strings.Join(r.ResourceNames, ","))
	}
	b, err := cs.RbacV1().RoleBindings(ns).Get(ctx, "kubeadm:kubeadm-certs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, "binding role "+b.RoleRef.APIGroup+" "+b.RoleRef.Kind+" "+b.RoleRef.Name)
	for _, s := range b.Subjects {
		out = append(out, "binding subject "+s.Kind+" "+s.Name)
	}
	slices.Sort(out)
	return out
}

func boolString(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// makeJoinConfigMaps writes what `kubeadm join` reads before it downloads: kube-system/kubeadm-config
// with certificatesDir, kube-system/kubelet-config, and kube-public/cluster-info for server.
func makeJoinConfigMaps(t *testing.T, ctx context.Context, cs kubernetes.Interface, certDir, server, pkiDir string) {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(pkiDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	clusterInfo := "apiVersion: v1\nkind: Config\nclusters:\n- name: \"\"\n  cluster:\n    server: " + server +
		"\n    certificate-authority-data: " + base64.StdEncoding.EncodeToString(ca) + "\ncontexts: null\ncurrent-context: \"\"\nusers: null\n"
	for _, cm := range []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kubeadm-config"}, Data: map[string]string{
			"ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: " + testcluster.KubeVersion + "\ncertificatesDir: " + certDir + "\n",
		}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kubelet-config"}, Data: map[string]string{
			"kubelet": "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n",
		}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-public", Name: "cluster-info"}, Data: map[string]string{"kubeconfig": clusterInfo}},
	} {
		if cm.Namespace == "kube-public" {
			if _, err := cs.CoreV1().Namespaces().Get(ctx, "kube-public", metav1.GetOptions{}); err != nil {
				if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-public"}}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := cs.CoreV1().ConfigMaps(cm.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// describeLeaf is what a certificate says about its node and use: subject, issuer, SANs,
// usages, key, validity.
func describeLeaf(c *x509.Certificate) []string {
	var ips []string
	for _, ip := range c.IPAddresses {
		ips = append(ips, ip.String())
	}
	return []string{
		"subject " + c.Subject.String(),
		"issuer " + c.Issuer.String(),
		fmt.Sprintf("dns %q", c.DNSNames),
		fmt.Sprintf("ips %q", ips),
		fmt.Sprintf("keyUsage %v extKeyUsage %v", c.KeyUsage, c.ExtKeyUsage),
		fmt.Sprintf("ca %v", c.IsCA),
		fmt.Sprintf("publicKey %v", c.PublicKeyAlgorithm),
		fmt.Sprintf("validity %v", c.NotAfter.Sub(c.NotBefore).Round(time.Hour)),
	}
}
