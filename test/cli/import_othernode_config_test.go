package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportFirstInstallationOtherNodeConfig: on a first installation
// (only the CA certificates in place) nothing names the node yet, so
// `certs import` installed node cp-2's CSR folder on node cp-1 even when
// given cp-1's --config, whose nodeRegistration.name says who the node
// is. With --config the four certificates that name the node are refused,
// saying whose they are (exit 2), and the others installed; without it,
// the import installs all twelve, as before.
func TestImportFirstInstallationOtherNodeConfig(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256") // its CAs stand in for the external CA
	sign := docSignScript(t, n)
	first := func(name string) string { // a node's folder with only the CA certificates
		dir := filepath.Join(t.TempDir(), name)
		for _, ca := range []string{"ca.crt", "front-proxy-ca.crt", "etcd/ca.crt"} {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, "pki", ca)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "pki", ca), read(t, filepath.Join(n.certDir, ca)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	other := first("cp-2")
	csrDir := filepath.Join(t.TempDir(), "csr-cp-2")
	id := []string{"--use-csr", "--csr-dir", csrDir, "--cert-dir", filepath.Join(other, "pki"),
		"--node-name", "cp-2", "--apiserver-advertise-address", "198.51.100.11"}
	run(t, bin, append([]string{"init-phase", "certs", "all"}, id...)...)
	run(t, bin, append([]string{"init-phase", "kubeconfig", "all", "--kubeconfig-dir", other}, id...)...)
	sign(csrDir)

	t.Run("--config of cp-1", func(t *testing.T) {
		cp1 := first("cp-1")
		cfg := filepath.Join(t.TempDir(), "kubeadm.yaml")
		if err := os.WriteFile(cfg, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  name: cp-1\n"+
			"---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: "+filepath.Join(cp1, "pki")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runAll(t, nil, bin, "certs", "import", "--csr-dir", csrDir, "--config", cfg, "--kubeconfig-dir", cp1)
		if code != 2 {
			t.Fatalf("certs import of cp-2's CSR folder on a new cp-1 with its --config: exit %d, want 2\n%s%s", code, stdout, stderr)
		}
		for _, want := range []string{
			`REFUSED apiserver: ` + csrDir + `/apiserver.crt: ` + csrDir + `/apiserver.request.json asks for the DNS names cp-2, `,
			`without this node's name "cp-1" (as nodeRegistration.name of ` + cfg + ` says)`,
			`REFUSED etcd-server: ` + csrDir + `/etcd/server.crt: ` + csrDir + `/etcd/server.request.json asks for a certificate of node "cp-2" (CN=cp-2), but this node is "cp-1", as nodeRegistration.name of ` + cfg + ` says`,
			`REFUSED etcd-peer: `,
			`REFUSED kubelet.conf: ` + csrDir + `/kubelet.conf.crt: ` + csrDir + `/kubelet.conf.request.json asks for a certificate of node "cp-2" (CN=system:node:cp-2), but this node is "cp-1"`,
			"the CSR folder is another node's",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("certs import does not say %q:\n%s", want, stdout)
			}
		}
		if c := strings.Count(stdout, "] REFUSED "); c != 4 {
			t.Errorf("certs import refused %d certificates, want 4:\n%s", c, stdout)
		}
		for _, f := range []string{"pki/apiserver.crt", "pki/etcd/server.crt", "pki/etcd/peer.crt", "kubelet.conf"} {
			if _, err := os.Stat(filepath.Join(cp1, f)); err == nil {
				t.Errorf("%s was installed, though refused", f)
			}
		}
	})
	t.Run("no --config", func(t *testing.T) {
		cp1 := first("cp-1")
		code, stdout, stderr := runAll(t, nil, bin, "certs", "import", "--csr-dir", csrDir, "--cert-dir", filepath.Join(cp1, "pki"), "--kubeconfig-dir", cp1)
		if code != 0 || strings.Contains(stdout, "REFUSED") || strings.Count(stdout, " installed: ") != 12 {
			t.Errorf("certs import without --config: exit %d, want 0 with all twelve installed, as before\n%s%s", code, stdout, stderr)
		}
	})
}
