package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportSubjectNotFromRequestFile: the audit's repro. A
// controller-manager.conf request file edited to add O=system:masters,
// signed with openssl as it says: `certs import` refuses it with exit 2,
// naming the request file, what it asks for and what the inventory gives,
// and installs nothing.
func TestImportSubjectNotFromRequestFile(t *testing.T) {
	bin := certctlBin(t)
	dir := t.TempDir()
	certDir, csrDir, kcDir := filepath.Join(dir, "pki"), filepath.Join(dir, "csr"), filepath.Join(dir, "kc")
	run(t, bin, "init-phase", "certs", "ca", "--cert-dir", certDir)
	run(t, bin, "init-phase", "kubeconfig", "controller-manager", "--use-csr", "--csr-dir", csrDir, "--cert-dir", certDir, "--kubeconfig-dir", kcDir,
		"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10")
	req := filepath.Join(csrDir, "controller-manager.conf.request.json")
	script := `set -euo pipefail
jq '.subject.organization = ["system:masters"]' "$REQ" > "$REQ.new" && mv "$REQ.new" "$REQ"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' > "$CSR_DIR/ext.cnf"
openssl x509 -req -in "$CSR_DIR/controller-manager.conf.csr" -CA "$CERT_DIR/ca.crt" -CAkey "$CERT_DIR/ca.key" \
  -set_serial 0x$(openssl rand -hex 8) -days 365 -subj "/O=system:masters/CN=system:kube-controller-manager" \
  -extfile "$CSR_DIR/ext.cnf" -out "$CSR_DIR/controller-manager.conf.crt" 2>/dev/null
rm "$CSR_DIR/ext.cnf"`
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "REQ="+req, "CSR_DIR="+csrDir, "CERT_DIR="+certDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sign: %v\n%s", err, out)
	}
	r := runCode(t, bin, "certs", "import", "--csr-dir", csrDir, "--cert-dir", certDir, "--kubeconfig-dir", kcDir)
	if r.code != 2 {
		t.Fatalf("import: exit %d, want 2\n%s%s", r.code, r.out, r.errOut)
	}
	for _, want := range []string{"REFUSED controller-manager.conf", req + " asks for the subject CN=system:kube-controller-manager, O=system:masters",
		"inventory gives controller-manager.conf the subject CN=system:kube-controller-manager:", "certctl init-phase kubeconfig controller-manager --use-csr"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("import does not say %q:\n%s", want, r.out)
		}
	}
	if _, err := os.Stat(filepath.Join(kcDir, "controller-manager.conf")); err == nil {
		t.Error("controller-manager.conf was installed")
	}
}
