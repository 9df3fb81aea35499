package cli

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSANDriftCommandKeepsFolders: check-expiration --config FILE with
// another --cert-dir than FILE's certificatesDir (a copy of the node's
// folder, a node laid out elsewhere) printed `certctl renew apiserver
// --update-sans --config FILE`, which renews the certificate in FILE's
// certificatesDir, not the one reported. The command printed must work as
// printed: it repeats --cert-dir and --kubeconfig-dir, and run as printed
// it applies the SAN to the certificate that was reported.
func TestSANDriftCommandKeepsFolders(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	// The configuration names the default folder, as a node's own
	// kubeadm.yaml does; the files checked are elsewhere.
	cfg := sansConfig(t, "/etc/kubernetes/pki", "api.example.com")
	code, out, errOut := runAll(t, nil, bin, append([]string{"check-expiration", "--config", cfg}, n.flags()...)...)
	m := regexp.MustCompile("run `(certctl renew apiserver --update-sans[^`]*)`").FindStringSubmatch(out + errOut)
	if code != 3 || m == nil {
		t.Fatalf("check-expiration: exit %d, want 3 and the --update-sans command\n%s%s", code, out, errOut)
	}
	// Run it only when it names the test's folders: as main printed it,
	// it would write into /etc/kubernetes/pki.
	for _, want := range []string{"--cert-dir " + n.certDir, "--kubeconfig-dir " + n.dir} {
		if !strings.Contains(m[1], want) {
			t.Fatalf("the printed command %q lacks %q: it would renew another folder's certificate", m[1], want)
		}
	}
	cmd := exec.Command("sh", "-c", strings.Replace(m[1], "certctl", bin, 1))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", m[1], err, b)
	}
	if c := parseCert(t, filepath.Join(n.certDir, "apiserver.crt")); !slices.Contains(c.DNSNames, "api.example.com") {
		t.Errorf("after the printed command, apiserver.crt has SANs %v, want api.example.com", c.DNSNames)
	}
}
