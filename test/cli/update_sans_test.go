package cli

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// sansConfig is a kubeadm configuration for makeNode's node, with extra
// API server SANs.
func sansConfig(t *testing.T, certDir string, sans ...string) string {
	t.Helper()
	cfg := `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp-1
localAPIEndpoint:
  advertiseAddress: 198.51.100.10
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
certificatesDir: ` + certDir + `
encryptionAlgorithm: ECDSA-P256
apiServer:
  certSANs: [` + strings.Join(sans, ", ") + `]
`
	path := filepath.Join(t.TempDir(), "kubeadm.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestUpdateSANs is issue 14 item 8: a SAN added to the configuration is
// reported as san-drift, and `renew apiserver --update-sans` applies it in
// the transaction with a backup; a configuration that no longer asks for a
// SAN the certificate has is refused, nothing written, unless --drop-sans.
func TestUpdateSANs(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	apiserver := filepath.Join(n.certDir, "apiserver.crt")
	kc := []string{"--kubeconfig-dir", n.dir}

	added := sansConfig(t, n.certDir, "api.example.com", "203.0.113.10")
	if code, out, errOut := runAll(t, nil, bin, append([]string{"check-expiration", "--config", added}, kc...)...); code != 3 ||
		!strings.Contains(out+errOut, "renew apiserver --update-sans") {
		t.Fatalf("check-expiration with a new SAN: exit %d, want 3 and the --update-sans hint\n%s%s", code, out, errOut)
	}
	run(t, bin, append([]string{"renew", "apiserver", "--update-sans", "--config", added}, kc...)...)
	c := parseCert(t, apiserver)
	if !slices.Contains(c.DNSNames, "api.example.com") || !slices.Contains(ipStrings(c), "203.0.113.10") {
		t.Errorf("apiserver.crt SANs after --update-sans: %v %v", c.DNSNames, ipStrings(c))
	}
	if backups, _ := filepath.Glob(filepath.Join(n.dir, "certctl-backups", "*", "pki", "apiserver.crt")); len(backups) != 1 {
		t.Errorf("%d backups of apiserver.crt, want 1", len(backups))
	}
	if code, out, errOut := runAll(t, nil, bin, append([]string{"check-expiration", "--config", added}, kc...)...); code != 0 {
		t.Errorf("check-expiration after --update-sans: exit %d\n%s%s", code, out, errOut)
	}

	// The configuration drops api.example.com: refused, nothing written.
	dropped := sansConfig(t, n.certDir, "203.0.113.10")
	// The lock file records its last holder: the folders below are what
	// a renewal may write.
	before := treetest.Snapshot(t, n.certDir)
	backupsBefore := treetest.Snapshot(t, filepath.Join(n.dir, "certctl-backups"))
	code, _, errOut := runAll(t, nil, bin, append([]string{"renew", "apiserver", "--update-sans", "--config", dropped}, kc...)...)
	if code != 1 || !strings.Contains(errOut, "api.example.com") || !strings.Contains(errOut, "--drop-sans") {
		t.Fatalf("renew --update-sans that drops a SAN: exit %d, want 1 naming it and --drop-sans\n%s", code, errOut)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.certDir))
	treetest.AssertSame(t, backupsBefore, treetest.Snapshot(t, filepath.Join(n.dir, "certctl-backups")))
	run(t, bin, append([]string{"renew", "apiserver", "--update-sans", "--drop-sans", "--config", dropped}, kc...)...)
	if c := parseCert(t, apiserver); slices.Contains(c.DNSNames, "api.example.com") {
		t.Errorf("--drop-sans kept api.example.com: %v", c.DNSNames)
	}
	// A certificate without SANs cannot be named.
	if code, _, errOut := runAll(t, nil, bin, append([]string{"renew", "admin.conf", "--update-sans", "--config", added}, kc...)...); code != 1 || !strings.Contains(errOut, "has no SANs") {
		t.Errorf("renew admin.conf --update-sans: exit %d\n%s", code, errOut)
	}
}

func ipStrings(c *x509.Certificate) []string {
	var out []string
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}
