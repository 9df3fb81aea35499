package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInitPhaseUseCSRPrintsImportWithConfig: on a first installation,
// docs/external-ca.md asks for `certs import --config`, whose
// nodeRegistration.name is then the only thing that says who the node is
// (the import checks the certificates that name a node against it). The
// import command `init-phase certs|kubeconfig --use-csr --config FILE`
// prints named the folders but never --config; it now repeats it, and the
// command, run as printed once the CA signed the folder, installs all
// twelve certificates.
func TestInitPhaseUseCSRPrintsImportWithConfig(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256") // its CAs stand in for the external CA
	sign := docSignScript(t, n)
	dir := filepath.Join(t.TempDir(), "cp-1")
	for _, ca := range []string{"ca.crt", "front-proxy-ca.crt", "etcd/ca.crt"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, "pki", ca)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "pki", ca), read(t, filepath.Join(n.certDir, ca)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(t.TempDir(), "kubeadm.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  name: cp-1\n"+
		"localAPIEndpoint:\n  advertiseAddress: 198.51.100.10\n"+
		"---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: "+filepath.Join(dir, "pki")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	csrDir := filepath.Join(t.TempDir(), "csr")
	var printed []string
	for _, group := range []string{"certs", "kubeconfig"} {
		out := run(t, bin, "init-phase", group, "all", "--use-csr", "--csr-dir", csrDir, "--config", cfg, "--kubeconfig-dir", dir)
		var line string
		for _, l := range strings.Split(out, "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "certctl certs import "); ok {
				line = rest
			}
		}
		if !strings.Contains(line, "--config "+cfg) {
			t.Errorf("init-phase %s --use-csr --config: the import command it prints lacks --config %s: certctl certs import %s", group, cfg, line)
		}
		printed = strings.Fields(line) // t.TempDir's paths have no space or quote
	}
	sign(csrDir)
	code, stdout, stderr := runAll(t, nil, bin, append([]string{"certs", "import"}, printed...)...)
	if code != 0 || strings.Contains(stdout, "REFUSED") || strings.Count(stdout, " installed: ") != 12 {
		t.Errorf("certctl certs import %s, as printed: exit %d, want 0 with all twelve installed\n%s%s", strings.Join(printed, " "), code, stdout, stderr)
	}
}
