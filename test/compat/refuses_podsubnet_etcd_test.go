package compat

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusesPodSubnetAndExternalEtcd: a networking.podSubnet or an
// etcd.external kubeadm v1.37 refuses, though no certificate depends on
// it, is refused by certctl too, in one line naming the file and the
// field, and nothing is written.
func TestRefusesPodSubnetAndExternalEtcd(t *testing.T) {
	certctl, kubeadm := binaries(t)
	cluster := func(extra string) string {
		return strings.Replace(minimalConfig, "encryptionAlgorithm: ALG\n", "encryptionAlgorithm: ALG\n"+extra+"\n", 1)
	}
	tests := []struct {
		name, config string
		want         []string
	}{
		{"pod subnet mask out of range", cluster("networking: {podSubnet: 10.244.0.0/33}"), []string{"networking.podSubnet", "couldn't parse subnet"}},
		{"two IPv4 pod subnets", cluster(`networking: {podSubnet: "10.244.0.0/16,10.245.0.0/16"}`), []string{"networking.podSubnet", "two CIDRs from each family"}},
		{"external etcd without endpoints", cluster("etcd: {external: {caFile: /e/ca.crt}}"), []string{"etcd.external", "at least one endpoint"}},
		{"external etcd certFile alone", cluster("etcd: {external: {endpoints: [https://10.0.0.5:2379], caFile: /e/ca.crt, certFile: /e/c.crt}}"), []string{"etcd.external.certFile and etcd.external.keyFile"}},
		{"external etcd pair without caFile", cluster("etcd: {external: {endpoints: [https://10.0.0.5:2379], certFile: /e/c.crt, keyFile: /e/c.key}}"), []string{"requires etcd.external.caFile"}},
		{"external etcd endpoint without scheme", cluster("etcd: {external: {endpoints: [\"10.0.0.5:2379\"]}}"), []string{"etcd.external.endpoints", "10.0.0.5:2379"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for tool, bin := range map[string]string{"kubeadm": kubeadm, "certctl": certctl} {
				dir := t.TempDir()
				cfgPath := writeConfig(t, tt.config, filepath.Join(dir, "pki"), "ECDSA-P256")
				out, err := command(tool, bin, "certs", "all", "--config", cfgPath).CombinedOutput()
				if err == nil {
					t.Fatalf("%s accepted the configuration:\n%s", tool, out)
				}
				if files := listFiles(t, dir); len(files) > 0 {
					t.Errorf("%s wrote %q", tool, files)
				}
				if tool == "kubeadm" {
					continue
				}
				msg := strings.TrimSpace(string(out))
				for _, w := range append([]string{cfgPath}, tt.want...) {
					if strings.Count(msg, "\n") > 0 || !strings.Contains(msg, w) {
						t.Errorf("certctl's error %q: want one line containing %q", msg, w)
					}
				}
			}
		})
	}
}
