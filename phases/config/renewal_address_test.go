package config_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
)

// TestForRenewalUnspecifiedAddress: renewal reads an unspecified advertise
// address (0.0.0.0, ::) as kubeadm does, as an empty one: the node's, from
// its certificates. It kept it as it was, and renew --update-sans on a node
// made from `advertiseAddress: "::"` refused the node's own address ("has
// the SANs fd00::2, which the configuration no longer asks for"), or with
// --drop-sans put the SAN :: in its place.
func TestForRenewalUnspecifiedAddress(t *testing.T) {
	n := pkitest.NewNode(t, func(c *config.Cluster) { c.AdvertiseAddress = "2001:db8::10" })
	for _, addr := range []string{"::", "0.0.0.0", "0:0:0:0:0:0:0:0", ""} {
		t.Run(addr, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "kubeadm.yaml")
			cfg := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: \"" + addr +
				"\"\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: " + n.CertDir() + "\n"
			if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			var warn bytes.Buffer
			r := &config.Resolver{File: file, KubeconfigDir: n.Dir, Warn: &warn,
				Connect: func(string) (config.ConfigMapGetter, string, error) { return nil, "", errors.New("no cluster") }}
			c, err := r.ForRenewal(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if c.AdvertiseAddress != "2001:db8::10" {
				t.Errorf("advertise address %q, want the certificates' 2001:db8::10", c.AdvertiseAddress)
			}
		})
	}
}
