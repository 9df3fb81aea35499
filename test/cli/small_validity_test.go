package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSmallShortCAValidityWarns: --ca-certificate-validity 30m makes a CA
// that expires, and the cluster's trust with it, within the hour. kubeadm
// v1.37 accepts it, and so does certctl, with a one-line warning on stderr
// naming the flag and what to pass.
func TestSmallShortCAValidityWarns(t *testing.T) {
	bin := certctlBin(t)
	certDir := filepath.Join(t.TempDir(), "pki")
	r := runCode(t, bin, "init-phase", "certs", "ca", "--cert-dir", certDir, "--node-name", "cp-1",
		"--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256", "--ca-certificate-validity", "30m")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	want := "[warning] caCertificateValidityPeriod (--ca-certificate-validity) 30m0s is shorter than 1h0m0s"
	if !strings.Contains(r.errOut, want) || strings.Contains(r.out, want) {
		t.Errorf("stdout %q, stderr %q: want the warning %q on stderr", r.out, r.errOut, want)
	}
}
