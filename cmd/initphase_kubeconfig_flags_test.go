package cmd

import (
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestInitKubeconfigRefusesCertOnlyFlags: the kubeconfig files carry no
// SAN and no CA is made there, so init-phase kubeconfig has no
// --apiserver-cert-extra-sans, --service-cidr, --service-dns-domain or
// --ca-certificate-validity, as `kubeadm init phase kubeconfig` has none.
// They were accepted and did nothing (--ca-certificate-validity only
// warned about a CA it does not make): a user who expected them to matter
// learnt nothing. init-phase certs, where they decide certificates, keeps
// them.
func TestInitKubeconfigRefusesCertOnlyFlags(t *testing.T) {
	for _, tc := range []struct{ flag, value string }{
		{"apiserver-cert-extra-sans", "api.example.com"},
		{"service-cidr", "10.0.0.0/16"},
		{"service-dns-domain", "corp.example"},
		{"ca-certificate-validity", "1000h"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			dir := t.TempDir()
			certDir := filepath.Join(dir, "pki")
			if _, _, err := execute(t, "init-phase", "certs", "ca", "--cert-dir", certDir, "--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--"+tc.flag, tc.value); err != nil {
				t.Fatalf("init-phase certs ca --%s: %v; init-phase certs keeps the flag", tc.flag, err)
			}
			before := treetest.Snapshot(t, dir)
			_, _, err := execute(t, "init-phase", "kubeconfig", "admin", "--cert-dir", certDir, "--kubeconfig-dir", dir,
				"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--"+tc.flag, tc.value)
			want := "unknown flag: --" + tc.flag + " (see 'certctl init-phase kubeconfig --help')"
			if err == nil || err.Error() != want {
				t.Errorf("init-phase kubeconfig admin --%s %s: %v; want %q", tc.flag, tc.value, err, want)
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, dir))
		})
	}
}
