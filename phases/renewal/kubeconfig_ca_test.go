package renewal

import (
	"bytes"
	"context"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestKubeconfigCADataAsTheUserLeftIt: renewal refreshes the CA data a
// cluster has, and adds none to one the user left without: one that skips
// TLS verification (client-go refuses CA data with it: kubectl could no
// longer use the file) or that trusts the system roots (a load balancer
// with a public certificate, which the cluster CA would not verify).
func TestKubeconfigCADataAsTheUserLeftIt(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(c *clientcmdapi.Cluster)
		wantCA bool
	}{
		{"kubeadm's", func(*clientcmdapi.Cluster) {}, true},
		{"insecure-skip-tls-verify", func(c *clientcmdapi.Cluster) { c.CertificateAuthorityData, c.InsecureSkipTLSVerify = nil, true }, false},
		{"system roots", func(c *clientcmdapi.Cluster) { c.CertificateAuthorityData, c.Server = nil, "https://lb.example.com" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, nil)
			p := n.path("admin.conf")
			pkitest.EditKubeconfig(t, p, func(cfg *clientcmdapi.Config) { tt.edit(cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster]) })
			if _, err := Renew(context.Background(), n.targets(t, "admin.conf"), n.options(renewAt)); err != nil {
				t.Fatal(err)
			}
			got, err := kubeconfig.Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := clientcmd.Validate(*got); err != nil {
				t.Errorf("renewed %s is not a valid kubeconfig: %v", p, err)
			}
			gotCA := got.Clusters[got.Contexts[got.CurrentContext].Cluster].CertificateAuthorityData
			if tt.wantCA != bytes.Equal(gotCA, read(t, n.path("pki/ca.crt"))) || !tt.wantCA && len(gotCA) != 0 {
				t.Errorf("certificate-authority-data after renewal = %d bytes, want ca.crt: %v", len(gotCA), tt.wantCA)
			}
		})
	}
}
