package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCSRFolderTempFilesAreRecovered: a --use-csr run killed while it
// wrote a key or CSR leaves the atomic write's temporary file (for a key,
// a copy of the new private key) in the CSR folder. The next run on that
// folder, `init-phase certs all --use-csr` or `renew all --use-csr`,
// removes it and says so, as every other command does for the certificate
// and kubeconfig folders (docs/renew.md: after a kill, the next command
// leaves no temporary file; docs/external-ca.md: a run stopped part way
// leaves at worst a key without its CSR).
func TestCSRFolderTempFilesAreRecovered(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	id := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10"}
	for _, tc := range []struct {
		name string
		args func(csrDir string) []string
	}{
		{"init-phase", func(csrDir string) []string {
			return append([]string{"init-phase", "certs", "all", "--use-csr", "--csr-dir", csrDir, "--cert-dir", n.certDir}, id...)
		}},
		{"renew", func(csrDir string) []string {
			return append([]string{"renew", "all", "--use-csr", "--csr-dir", csrDir}, n.flags()...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			csrDir := filepath.Join(t.TempDir(), "csr")
			run(t, bin, tc.args(csrDir)...)
			// What a run killed in the middle of an atomic write leaves.
			left := []string{filepath.Join(csrDir, ".front-proxy-client.key.tmp-2355423080"), filepath.Join(csrDir, "etcd", ".peer.csr.tmp-1677703224")}
			for _, p := range left {
				if err := os.WriteFile(p, []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r := runCode(t, bin, tc.args(csrDir)...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s%s", r.code, r.out, r.errOut)
			}
			for _, p := range left {
				if _, err := os.Lstat(p); !os.IsNotExist(err) {
					t.Errorf("%s is still there after the next run (%v)", p, err)
				}
				if !strings.Contains(r.errOut, "[recover] removed "+p+", left by an interrupted write") {
					t.Errorf("the next run does not say it removed %s:\n%s", p, r.errOut)
				}
			}
		})
	}
}
