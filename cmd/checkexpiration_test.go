package cmd

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckExpirationClusterFlags: the --cluster flags are refused where
// they mean nothing, before any work.
func TestCheckExpirationClusterFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"--kubeconfig without --cluster", []string{"--kubeconfig", "x.conf"}, "--kubeconfig is for --cluster only"},
		{"--context without --cluster", []string{"--context", "prod"}, "--context is for --cluster only"},
		{"--etcd-endpoints without --cluster", []string{"--etcd-endpoints", "https://127.0.0.1:2379"}, "--etcd-endpoints is for --cluster only"},
		{"--cluster -o prometheus", []string{"--cluster", "-o", "prometheus"}, "--cluster prints no Prometheus metrics"},
		{"--cluster --textfile", []string{"--cluster", "--textfile", filepath.Join(dir, "x.prom")}, "--cluster prints no Prometheus metrics"},
		{"--cluster --node-name", []string{"--cluster", "--node-name", "cp-9"}, "--node-name is for this node's check, not --cluster"},
		{"--cluster --apiserver-advertise-address", []string{"--cluster", "--apiserver-advertise-address", "10.0.0.9"}, "--apiserver-advertise-address is for this node's check, not --cluster"},
		{"--cluster --manifest-dir", []string{"--cluster", "--manifest-dir", dir}, "--manifest-dir is for this node's check, not --cluster"},
		{"--cluster without CAs", []string{"--cluster", "--cert-dir", dir, "--kubeconfig", emptyKubeconfig(t)}, "no local CA to check the served certificates against"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCertctl(t, append([]string{"check-expiration", "--kubeconfig-dir", dir}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
