package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSmallShortCAValidityWarns: --ca-certificate-validity 30m makes a CA
// that expires, and the cluster's trust with it, within the hour. kubeadm
// v1.37 accepts it, and so does certctl, with a one-line warning on stderr
// naming the flag and what to pass.
func TestSmallShortCAValidityWarns(t *testing.T) {
	bin := certctlBin(t)
	certDir := filepath.Join(t.TempDir(), "pki")
	r := runCode(t, bin, "init-phase", "certs", "ca", "--cert-dir", certDir, "--node-name", "cp-1",
		"--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256", "--ca-certificate-validity", "30m")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	want := "[warning] caCertificateValidityPeriod (--ca-certificate-validity) 30m0s is shorter than 1h0m0s"
	if !strings.Contains(r.errOut, want) || strings.Contains(r.out, want) {
		t.Errorf("stdout %q, stderr %q: want the warning %q on stderr", r.out, r.errOut, want)
	}
}

// TestSmallKubeconfigWarnsNoShortCA: init-phase kubeconfig makes no CA, so
// a caCertificateValidityPeriod of 30m in --config is not warned of (it
// was, as "a CA made with it expires within the hour", while the CA on
// disk was made for ten years); init-phase certs ca, which makes the CA,
// still warns.
func TestSmallKubeconfigWarnsNoShortCA(t *testing.T) {
	bin := certctlBin(t)
	dir := t.TempDir()
	certDir := filepath.Join(dir, "pki")
	cfg := filepath.Join(dir, "kubeadm.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncaCertificateValidityPeriod: 30m\ncertificateValidityPeriod: 1h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, bin, "init-phase", "certs", "ca", "--cert-dir", certDir, "--kubeconfig-dir", dir)
	const short = "is shorter than 1h0m0s"
	r := runCode(t, bin, "init-phase", "kubeconfig", "admin", "--config", cfg, "--cert-dir", certDir, "--kubeconfig-dir", dir)
	if r.code != 0 || strings.Contains(r.out+r.errOut, short) {
		t.Errorf("init-phase kubeconfig: exit %d, stdout %q, stderr %q: want no warning of a short CA (it makes none)", r.code, r.out, r.errOut)
	}
	r = runCode(t, bin, "init-phase", "certs", "ca", "--config", cfg, "--cert-dir", filepath.Join(dir, "other"), "--kubeconfig-dir", dir)
	if r.code != 0 || !strings.Contains(r.errOut, short) {
		t.Errorf("init-phase certs ca: exit %d, stderr %q: want the warning of a short CA, which it makes", r.code, r.errOut)
	}
}
