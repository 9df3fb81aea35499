package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFirstInstallKubeconfigsWithExternalCA is the first installation of a
// node whose cluster CA key stays with an external CA, without kubeadm:
// `init-phase kubeconfig all --use-csr` writes each kubeconfig's key and
// CSR (kubeadm's `certs generate-csr` layout) and ends with the exact
// import command; docs/external-ca.md's sign.sh signs them as the CA
// operator; that command installs all five kubeconfigs, each with its
// client certificate matching its key and chaining to ca.crt (openssl).
func TestFirstInstallKubeconfigsWithExternalCA(t *testing.T) {
	for _, tool := range []string{"openssl", "jq", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run hack/setup.sh", tool)
		}
	}
	bin := certctlBin(t)
	scratch := t.TempDir()
	n := node{dir: filepath.Join(scratch, "etc-kubernetes")}
	n.certDir = filepath.Join(n.dir, "pki")
	run(t, bin, "init-phase", "certs", "ca", "--cert-dir", n.certDir, "--encryption-algorithm", "ECDSA-P256")
	// The CA key goes to the external CA: the node keeps the certificate.
	caDir := filepath.Join(scratch, "cas")
	if err := os.Mkdir(caDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".crt", ".key"} {
		if err := os.Rename(filepath.Join(n.certDir, "ca"+ext), filepath.Join(caDir, "ca"+ext)); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(caDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.certDir, "ca.crt"), data, 0o644); err != nil {
		t.Fatal(err)
	}

	csrDir := filepath.Join(scratch, "csr")
	out := run(t, bin, append([]string{"init-phase", "kubeconfig", "all", "--use-csr", "--csr-dir", csrDir, "--node-name", "cp-1",
		"--encryption-algorithm", "ECDSA-P256"}, n.flags()...)...)
	next := regexp.MustCompile(`(?m)^  (certctl certs import .*)$`).FindStringSubmatch(out)
	if next == nil {
		t.Fatalf("init-phase kubeconfig --use-csr does not end with the import command:\n%s", out)
	}
	for _, k := range append(kubeconfigs, "kubelet.conf") {
		if _, err := os.Stat(filepath.Join(n.dir, k)); err == nil {
			t.Errorf("--use-csr wrote %s in the kubeconfig folder", k)
		}
	}
	script := filepath.Join(scratch, "sign.sh")
	if err := os.WriteFile(script, []byte(docBlockIn(t, "external-ca.md", "sh", "# sign.sh CSRDIR CADIR")), 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", script, csrDir, caDir).CombinedOutput(); err != nil {
		t.Fatalf("docs/external-ca.md's sign.sh: %v\n%s", err, out)
	}
	// The printed command, as printed.
	args := strings.Fields(next[1])
	out = run(t, bin, args[1:]...)
	if c := regexp.MustCompile(`(?m)^\[import\] \S+ installed: `).FindAllStringIndex(out, -1); len(c) != 5 {
		t.Errorf("certs import installed %d kubeconfigs, want 5:\n%s", len(c), out)
	}
	verifyOpenSSL(t, n.kubeconfigPairs(t, t.TempDir()))
}
