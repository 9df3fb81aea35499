package config_test

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
)

// TestLoopbackAdvertiseAddress: a loopback advertise address given in the
// file or a flag is replaced, as kubeadm's SetAPIEndpointDynamicDefaults
// replaces it, by the global address of the lo interface (RFC 5549: the
// node's address on lo, link-local addresses on its links), for init-phase
// and check-expiration (Load) and for renewal (ForRenewal). certctl kept
// 127.0.0.1, so that on such a node it made other certificates and
// kubeconfigs than kubeadm from the same file, and check-expiration
// --config on kubeadm's reported san-drift. Without a global address on lo
// (kubeadm fails) the loopback address is kept, and an address read from
// the node's certificates is never replaced.
func TestLoopbackAdvertiseAddress(t *testing.T) {
	lo := func() (net.IP, error) { return net.ParseIP("10.1.1.1"), nil }
	none := func() (net.IP, error) { return nil, errors.New("unable to select an IP from lo network interface") }
	derived := pkitest.NewNode(t, func(c *config.Cluster) { c.AdvertiseAddress = "127.0.0.1" })
	tests := []struct {
		name       string
		file, flag string // file: the advertise address in --config ("-": no file)
		noCerts    bool   // an empty certificate folder
		lookup     func() (net.IP, error)
		want       string
		wantLoad   string // when Load's differs: a detected address
	}{
		{name: "127.0.0.1 in the file", file: "127.0.0.1", lookup: lo, want: "10.1.1.1"},
		{name: "::1 in the file", file: "::1", lookup: lo, want: "10.1.1.1"},
		{name: "127.0.0.5 in the file", file: "127.0.0.5", lookup: lo, want: "10.1.1.1"},
		{name: "--apiserver-advertise-address ::1 on a new node", file: "-", flag: "::1", noCerts: true, lookup: lo, want: "10.1.1.1"},
		{name: "no global address on lo", file: "127.0.0.1", lookup: none, want: "127.0.0.1"},
		{name: "not a loopback address", file: "192.0.2.7", lookup: lo, want: "192.0.2.7"},
		{name: "read from the certificates", file: "-", lookup: lo, want: "127.0.0.1"},
		{name: "read from the certificates, same flag", file: "-", flag: "127.0.0.1", lookup: lo, want: "127.0.0.1"},
		{name: ":: in the file, read from the certificates for renewal", file: "::", lookup: lo, want: "127.0.0.1", wantLoad: "2001:db8::99"},
	}
	for _, tt := range tests {
		for _, load := range []string{"Load", "ForRenewal"} {
			t.Run(tt.name+"/"+load, func(t *testing.T) {
				var warn bytes.Buffer
				certDir := derived.CertDir()
				if tt.noCerts {
					certDir = t.TempDir()
				}
				r := &config.Resolver{
					CertDir: certDir, CertDirSet: true, KubeconfigDir: derived.Dir, Warn: &warn, LoopbackAddress: tt.lookup,
					ResolveAddress: func(net.IP) (net.IP, error) { return net.ParseIP("2001:db8::99"), nil },
					Connect:        func(string) (config.ConfigMapGetter, string, error) { return nil, "", errors.New("no cluster") },
					Override: func(c *config.Cluster) {
						c.CertificatesDir, c.NodeName = certDir, "cp-1"
						if tt.flag != "" {
							c.AdvertiseAddress = tt.flag
						}
					},
				}
				if tt.file != "-" {
					r.File = filepath.Join(t.TempDir(), "kubeadm.yaml")
					cfg := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: \"" + tt.file + "\"\n"
					if err := os.WriteFile(r.File, []byte(cfg), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				var c *config.Cluster
				var err error
				if load == "Load" {
					c, err = r.Load(t.Context())
				} else {
					c, err = r.ForRenewal(t.Context())
				}
				if err != nil {
					t.Fatal(err)
				}
				want := tt.want
				if load == "Load" && tt.wantLoad != "" {
					want = tt.wantLoad
				}
				if c.AdvertiseAddress != want {
					t.Errorf("advertise address %q, want %q\n%s", c.AdvertiseAddress, want, warn.String())
				}
				if said := strings.Contains(warn.String(), "global address of the lo interface"); said != (want == "10.1.1.1") {
					t.Errorf("said so: %v, want %v:\n%s", said, !said, warn.String())
				}
			})
		}
	}
}
