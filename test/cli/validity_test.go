package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestValidityBelowMinimumRefused: a certificate validity below the issuance
// policy's hour is refused by init-phase and renew before anything is
// written; it used to write certificates that were already expired
// (issue 13, defect 5).
func TestValidityBelowMinimumRefused(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	before := treetest.Snapshot(t, n.dir)
	for _, args := range [][]string{
		append([]string{"renew", "all", "--certificate-validity", "1ns"}, n.flags()...),
		append([]string{"renew", "apiserver", "--certificate-validity", "59m"}, n.flags()...),
		{"init-phase", "certs", "all", "--cert-dir", filepath.Join(t.TempDir(), "pki"), "--certificate-validity", "1ns",
			"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10"},
	} {
		r := runCode(t, bin, args...)
		if r.code != 1 || !strings.Contains(r.errOut, "is shorter than 1h0m0s, certctl's minimum") {
			t.Errorf("certctl %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.errOut)
		}
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.dir))
}
