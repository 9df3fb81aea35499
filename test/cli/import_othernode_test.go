package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportCSRFolderOfAnotherNode: the CSR folder of node cp-2 (written
// by `init-phase certs|kubeconfig all --use-csr` with cp-2's name and
// address, signed by the cluster's CAs with docs/external-ca.md's sign.sh),
// imported by mistake on node cp-1. Before, the import installed all
// twelve, and cp-1's API server, etcd and kubelet served and signed in as
// cp-2. Now the four that name the node are refused, each saying whose
// they are, with exit status 2, and their files are left as they were;
// the others, which do not depend on the node, are installed.
func TestImportCSRFolderOfAnotherNode(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	sign := docSignScript(t, n)

	// Node cp-2: the cluster's CA certificates, its own name and address.
	other := filepath.Join(t.TempDir(), "cp-2")
	for _, ca := range []string{"ca.crt", "front-proxy-ca.crt", "etcd/ca.crt"} {
		data, err := os.ReadFile(filepath.Join(n.certDir, ca))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(other, "pki", ca)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(other, "pki", ca), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	csrDir := filepath.Join(t.TempDir(), "csr-cp-2")
	id := []string{"--use-csr", "--csr-dir", csrDir, "--cert-dir", filepath.Join(other, "pki"),
		"--node-name", "cp-2", "--apiserver-advertise-address", "198.51.100.11"}
	run(t, bin, append([]string{"init-phase", "certs", "all"}, id...)...)
	run(t, bin, append([]string{"init-phase", "kubeconfig", "all", "--kubeconfig-dir", other}, id...)...)
	sign(csrDir)

	kept := map[string]string{}
	for _, f := range []string{"pki/apiserver.crt", "pki/etcd/server.crt", "pki/etcd/peer.crt", "kubelet.conf"} {
		kept[f] = string(read(t, filepath.Join(n.dir, f)))
	}
	code, stdout, stderr := runAll(t, nil, bin, append([]string{"certs", "import", "--csr-dir", csrDir}, n.flags()...)...)
	if code != 2 {
		t.Fatalf("certs import of cp-2's CSR folder on cp-1: exit %d, want 2\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		`REFUSED apiserver: ` + csrDir + `/apiserver.crt: ` + csrDir + `/apiserver.request.json asks for the DNS names cp-2, `,
		`without this node's name "cp-1"`,
		`REFUSED etcd-server: ` + csrDir + `/etcd/server.crt: ` + csrDir + `/etcd/server.request.json asks for a certificate of node "cp-2" (CN=cp-2), but this node is "cp-1"`,
		`REFUSED etcd-peer: `,
		`REFUSED kubelet.conf: ` + csrDir + `/kubelet.conf.crt: ` + csrDir + `/kubelet.conf.request.json asks for a certificate of node "cp-2" (CN=system:node:cp-2), but this node is "cp-1"`,
		"the CSR folder is another node's",
		"certctl init-phase kubeconfig kubelet --use-csr --csr-dir NEWDIR",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("certs import does not say %q:\n%s", want, stdout)
		}
	}
	if c := strings.Count(stdout, "] REFUSED "); c != 4 {
		t.Errorf("certs import refused %d certificates, want 4:\n%s", c, stdout)
	}
	for f, was := range kept {
		if got := string(read(t, filepath.Join(n.dir, f))); got != was {
			t.Errorf("%s changed, though its certificate was refused", f)
		}
	}
}
