package cli

import (
	"os"
	"path/filepath"
	"regexp"
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
