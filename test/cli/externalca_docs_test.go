package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestDocumentedSignScript runs the sign.sh of docs/external-ca.md, as
// written, as the external CA: `renew all --use-csr` writes the requests,
// the script signs every one with openssl and jq from its request file, and
// `certs import` installs them. Every certificate then matches its key and
// chains to its CA (openssl), and the import accepted all eleven, which it
// does only when subject, SANs and usages are the ones the request asks for.
func TestDocumentedSignScript(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	sign := docSignScript(t, n)
	before := serials(t, n.pairs(t, t.TempDir()))

	csrDir := filepath.Join(t.TempDir(), "csr")
	run(t, bin, append([]string{"renew", "all", "--use-csr", "--csr-dir", csrDir}, n.flags()...)...)
	sign(csrDir)
	out := run(t, bin, append([]string{"certs", "import", "--csr-dir", csrDir}, n.flags()...)...)
	if c := regexp.MustCompile(`(?m)^\[import\] \S+ installed: `).FindAllStringIndex(out, -1); len(c) != 11 {
		t.Errorf("certs import installed %d certificates, want 11:\n%s", len(c), out)
	}
	pairs := n.pairs(t, t.TempDir())
	verifyOpenSSL(t, pairs)
	for name, serial := range serials(t, pairs) {
		if before[name] == serial {
			t.Errorf("%s still has its old serial %s after the import", name, serial)
		}
	}
}

// docSignScript writes the sign.sh of docs/external-ca.md and a CA folder
// in its layout, the node's CAs standing in for the external ones, and
// returns what signs every request of a CSR folder with them, as the
// external CA would.
func docSignScript(t *testing.T, n node) (sign func(csrDir string)) {
	t.Helper()
	for _, tool := range []string{"openssl", "jq", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run hack/setup.sh", tool)
		}
	}
	scratch := t.TempDir()
	script := filepath.Join(scratch, "sign.sh")
	if err := os.WriteFile(script, []byte(docBlockIn(t, "external-ca.md", "sh", "# sign.sh CSRDIR CADIR")), 0o700); err != nil {
		t.Fatal(err)
	}
	// The operator's CA folder, in the script's layout: the node's CAs
	// stand in for the external ones.
	caDir := filepath.Join(scratch, "cas")
	if err := os.Mkdir(caDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{"ca": "ca", "front-proxy-ca": "front-proxy-ca", "etcd/ca": "etcd-ca"} {
		for _, ext := range []string{".crt", ".key"} {
			data, err := os.ReadFile(filepath.Join(n.certDir, from+ext))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(caDir, to+ext), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return func(csrDir string) {
		t.Helper()
		if out, err := exec.Command("bash", script, csrDir, caDir).CombinedOutput(); err != nil {
			t.Fatalf("docs/external-ca.md's sign.sh: %v\n%s", err, out)
		}
	}
}
