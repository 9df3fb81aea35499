package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadFilePodSubnet: kubeadm v1.37 refuses a networking.podSubnet it
// cannot parse (ValidateIPNetFromString), though no certificate depends
// on it; certctl refuses it too, instead of making a PKI for a file that
// `kubeadm init` then refuses. Its node-mask check, which reads
// controllerManager.extraArgs, is left to kubeadm.
func TestLoadFilePodSubnet(t *testing.T) {
	tests := []struct {
		name, subnet string
		wantErr      []string // nil: accepted
	}{
		{name: "IPv4", subnet: "10.244.0.0/16"},
		{name: "dual-stack", subnet: "fd00:10:244::/56,10.244.0.0/16"},
		{name: "mask out of range", subnet: "10.244.0.0/33", wantErr: []string{`invalid networking.podSubnet "10.244.0.0/33": couldn't parse subnet`, "10.244.0.0/16"}},
		{name: "space after the comma", subnet: "10.244.0.0/16, fd00::/56", wantErr: []string{"couldn't parse subnet", "without spaces"}},
		{name: "two IPv4 subnets", subnet: "10.244.0.0/16,10.245.0.0/16", wantErr: []string{"expected one (IPv4 or IPv6) CIDR or two CIDRs from each family"}},
		{name: "too small", subnet: "10.244.0.0/29", wantErr: []string{"with 8 address(es) is too small, the minimum is 14"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kubeadm.yaml")
			doc := clusterDoc("v1beta4", `networking: {podSubnet: "`+tt.subnet+`"}`)
			if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadFile(path, Default())
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.wantErr)
			}
			for _, w := range append([]string{"config file " + path + ": "}, tt.wantErr...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
