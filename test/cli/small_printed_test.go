package cli

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSmallPrintedInitPhaseRuns: the `certctl init-phase certs ca` that
// init-phase prints for a missing CA, run as printed, makes the CA in the
// folder the failed command used, not in /etc/kubernetes/pki. A printed
// command without that folder is not run: it would write the machine's.
func TestSmallPrintedInitPhaseRuns(t *testing.T) {
	bin := certctlBin(t)
	certDir := filepath.Join(t.TempDir(), "pki")
	r := runCode(t, bin, "init-phase", "certs", "apiserver", "--cert-dir", certDir)
	m := regexp.MustCompile("run `certctl (init-phase certs ca[^`]*)`").FindStringSubmatch(r.errOut)
	if r.code == 0 || m == nil {
		t.Fatalf("exit %d, stderr %q: want a refusal printing `certctl init-phase certs ca ...`", r.code, r.errOut)
	}
	// Never run it without the folder: it would write /etc/kubernetes/pki.
	if !strings.Contains(m[1], " --cert-dir "+certDir) {
		t.Fatalf("printed `certctl %s`: run as printed it acts on /etc/kubernetes/pki, not on --cert-dir %s", m[1], certDir)
	}
	run(t, bin, strings.Fields(m[1])...)
	if _, err := os.Stat(filepath.Join(certDir, "ca.crt")); err != nil {
		t.Errorf("`certctl %s` as printed did not make the CA in %s: %v", m[1], certDir, err)
	}
}

// TestSmallPrintedUseCSRKeepsSettings: for an external CA (ca.crt without
// ca.key), init-phase prints the `--use-csr` command that writes the
// certificate's CSR instead. Run as printed, that command must write the
// CSR the failed command's settings give (--config, a list flag, every
// setting flag): without them it asked for the SANs of the kubeadm-config
// ConfigMap or the defaults, and the external CA signed the wrong names.
func TestSmallPrintedUseCSRKeepsSettings(t *testing.T) {
	bin := certctlBin(t)
	dir := t.TempDir()
	certDir := filepath.Join(dir, "pki")
	cfg := filepath.Join(dir, "kubeadm config.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  certSANs: [from-config.example]\nnetworking:\n  dnsDomain: corp.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, bin, "init-phase", "certs", "ca", "--cert-dir", certDir)
	if err := os.Remove(filepath.Join(certDir, "ca.key")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--config", cfg},
		{"--config", cfg, "--kubeconfig-dir", filepath.Join(dir, "kc"), "--apiserver-cert-extra-sans", "flag-a.example,10.1.2.3", "--node-name", "node-1", "--control-plane-endpoint", "cp.example:6443"},
	} {
		args = append([]string{"init-phase", "certs", "apiserver", "--cert-dir", certDir}, args...)
		r := runCode(t, bin, args...)
		m := regexp.MustCompile("write a CSR for your CA with `certctl (init-phase certs apiserver[^`]*)`").FindStringSubmatch(r.errOut)
		if r.code == 0 || m == nil {
			t.Fatalf("certctl %s: exit %d, stderr %q: want a refusal printing `certctl init-phase certs apiserver ... --use-csr --csr-dir DIR`", strings.Join(args, " "), r.code, r.errOut)
		}
		printedDir, wantDir := t.TempDir(), t.TempDir()
		printed := strings.Replace(m[1], "--csr-dir DIR", "--csr-dir "+printedDir, 1)
		if r := runCode(t, "sh", "-c", bin+" "+printed); r.code != 0 {
			t.Fatalf("`certctl %s` as printed: exit %d, stderr %q", printed, r.code, r.errOut)
		}
		run(t, bin, append(args, "--use-csr", "--csr-dir", wantDir)...)
		got, want := csrSANs(t, filepath.Join(printedDir, "apiserver.csr")), csrSANs(t, filepath.Join(wantDir, "apiserver.csr"))
		if !slices.Equal(got, want) || !slices.Contains(want, "kubernetes.default.svc.corp.example") {
			t.Errorf("`certctl %s` as printed asked for %v; the failed command's settings (certctl %s --use-csr) give %v", printed, got, strings.Join(args, " "), want)
		}
	}
}

// csrSANs are the DNS and IP SANs of the CSR file at path, sorted.
func csrSANs(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(data)
	if blk == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	sans := slices.Clone(csr.DNSNames)
	for _, ip := range csr.IPAddresses {
		sans = append(sans, ip.String())
	}
	slices.Sort(sans)
	return sans
}
