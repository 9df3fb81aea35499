package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/doctest"
	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

// approveDocsConsole runs docs/signer.md's `certctl approve` console as
// written: the command line is read from the document, in a folder whose
// kubeadm.yaml holds the harness's settings (the node's configuration the
// document names), /etc/kubernetes being c's folder. The CSR it approves
// is the one the document names, made for the node's apiserver
// certificate by cs, the admin (kubernetes-admin), with a new key. The
// node is registered as the kubelet registers it on a kubeadm node (the
// harness runs no kubelet): approve learns the control-plane nodes from
// the Nodes.
func approveDocsConsole(t *testing.T, ctx context.Context, c *testcluster.Cluster, cs kubernetes.Interface) {
	registerNode(t, ctx, cs, testcluster.NodeName, c.PKI().AdvertiseAddress)
	want := docConsole(t, "signer.md", "$ certctl approve csr-", c.KubeconfigDir(), testcluster.NodeName)
	args := docCommand(t, want[0])
	apiserver := pki.ProfileFromCert("apiserver", "apiserver", "", readCert(t, filepath.Join(c.PKIDir(), "apiserver.crt")))
	createCSR(t, ctx, cs, args[1], signer.KubeAPIServerServing, apiserver, newKey(t), serverUsages)
	dir := t.TempDir()
	writeKubeadmConfig(t, c, filepath.Join(dir, "kubeadm.yaml"), c.PKIDir())
	cmd := exec.CommandContext(ctx, signerCertctl(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s: %v", want[0], err)
	}
	checkDocConsole(t, "signer.md", want, append(want[:1:1], doctest.OutputLines(string(out))...))
}

// caReloadDocsLog checks the three log lines of docs/signer.md's
// "Rotating a CA under a running signer" with the events they tell of,
// under `certctl signer run --ca-reload-interval 100ms` (the default
// minute shortened): on a copy of c's certificate folder (/etc/kubernetes
// in the document), ca.crt replaced by a new CA's (a warning: the key does
// not match), then ca.key (CA reloaded); and with --ca-cert and --ca-key
// on files in a folder of their own (/secret in the document) that come to
// hold etcd's CA (refused), the copy being the configuration's
// certificatesDir. The new CA is certctl's, from `certctl
// init-phase certs ca`.
func caReloadDocsLog(t *testing.T, ctx context.Context, c *testcluster.Cluster) {
	node := filepath.Join(t.TempDir(), "etc-kubernetes")
	if err := os.Mkdir(node, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", c.PKIDir(), filepath.Join(node, "pki")).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v\n%s", c.PKIDir(), err, out)
	}
	secret := t.TempDir()
	for _, f := range []string{"ca.crt", "ca.key"} {
		copyFile(t, filepath.Join(c.PKIDir(), f), filepath.Join(secret, f))
	}
	fresh := t.TempDir()
	if out, err := runCertctl(t, ctx, append([]string{"init-phase", "certs", "ca", "--cert-dir", fresh}, c.PKI().Flags()...)...); err != nil {
		t.Fatalf("make a new CA: %v\n%s", err, out)
	}
	run := []string{"--kubeconfig", c.Kubeconfig("admin.conf"), "--ca-reload-interval", "100ms"}
	onDir, _ := startSignerRun(t, ctx, t.TempDir(), append(run, "--cert-dir", filepath.Join(node, "pki"))...)
	// The folder the flags' CAs are checked against is the configuration's certificatesDir.
	cfg := filepath.Join(t.TempDir(), "kubeadm.yaml")
	writeKubeadmConfig(t, c, cfg, filepath.Join(node, "pki"))
	onFiles, _ := startSignerRun(t, ctx, t.TempDir(), append(run, "--config", cfg,
		"--ca-cert", filepath.Join(secret, "ca.crt"), "--ca-key", filepath.Join(secret, "ca.key"))...)

	for _, step := range []struct {
		marker   string
		p        *proc
		from, to string // the file replaced, with a copy of from
	}{
		{`msg="CA files changed but cannot be used`, onDir, filepath.Join(fresh, "ca.crt"), filepath.Join(node, "pki", "ca.crt")},
		{`msg="CA reloaded"`, onDir, filepath.Join(fresh, "ca.key"), filepath.Join(node, "pki", "ca.key")},
		{`msg="CA files changed to a CA that is refused`, onFiles, filepath.Join(c.PKIDir(), "etcd", "ca.crt"), filepath.Join(secret, "ca.crt")},
	} {
		if step.p == onFiles { // the key first: the certificate completes the pair
			copyFile(t, filepath.Join(c.PKIDir(), "etcd", "ca.key"), filepath.Join(secret, "ca.key"))
		}
		copyFile(t, step.from, step.to)
		want := docConsole(t, "signer.md", step.marker, node, testcluster.NodeName)
		for i := range want {
			want[i] = strings.ReplaceAll(want[i], "/secret", secret)
		}
		got := waitLogLine(t, ctx, step.p, step.marker)
		checkDocConsole(t, "signer.md", want, []string{got})
	}
}

// writeKubeadmConfig writes at path a kubeadm configuration of c's node
// (name, addresses, networking) with certificatesDir certDir.
func writeKubeadmConfig(t *testing.T, c *testcluster.Cluster, path, certDir string) {
	t.Helper()
	spec := c.PKI()
	cfg := fmt.Sprintf(`apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: %s
  bindPort: %d
nodeRegistration:
  name: %s
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
certificatesDir: %s
controlPlaneEndpoint: %s
networking:
  serviceSubnet: %s
  dnsDomain: %s
`, spec.AdvertiseAddress, spec.BindPort, spec.NodeName, certDir, spec.ControlPlaneEndpoint, spec.ServiceCIDR, spec.DNSDomain)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// docLogVariable are the parts of a log line of certctl signer run a
// document cannot show as they will be: its time, a certificate's serial.
var docLogVariable = []doctest.Variable{
	{Re: regexp.MustCompile(`^time=\S+ `), With: "time=T "},
	{Re: regexp.MustCompile(`\bserial=[0-9a-f]+\b`), With: "serial=X"},
}

// waitLogLine returns the first line of p's log that contains s.
func waitLogLine(t *testing.T, ctx context.Context, p *proc, s string) string {
	t.Helper()
	for {
		data, err := os.ReadFile(p.log)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, s) {
				return l
			}
		}
		if p.exited() {
			t.Fatalf("%s exited before it logged %q", p.name, s)
		}
		sleepOrFail(t, ctx, 50*time.Millisecond, p.name+" to log "+s)
	}
}

// copyFile replaces to with a copy of from atomically, as the document
// asks: a temporary file in the same folder, renamed over to.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(to), "."+filepath.Base(to)+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}
