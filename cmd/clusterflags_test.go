package cmd

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/phases/config"
)

// TestClusterFlagsLoad: the settings as kubeadm v1.37 makes them from its
// flags and config file (each case tried with kubeadm v1.37.1): an empty or
// unspecified advertise address is detected, addresses are written in
// canonical form, SANs and nodeRegistration.name lower-cased, --node-name
// used as given, a relative --cert-dir refused.
func TestClusterFlagsLoad(t *testing.T) {
	const (
		detectedV4 = "192.0.2.5"
		detectedV6 = "2001:db8::5"
	)
	tests := []struct {
		name       string
		config     string // written to a file given as --config when set
		args       []string
		wantFamily string // "" (no detection), "any", "v4" or "v6"
		check      func(t *testing.T, c *loaded)
		wantWarn   string
		wantErr    string
	}{
		{
			name: "address given", args: []string{"--apiserver-advertise-address", "2001:db8:0:0::10"},
			check: func(t *testing.T, c *loaded) { c.want(t, "AdvertiseAddress", c.AdvertiseAddress, "2001:db8::10") },
		},
		{
			name: "no address", wantFamily: "any",
			check: func(t *testing.T, c *loaded) { c.want(t, "AdvertiseAddress", c.AdvertiseAddress, detectedV4) },
		},
		{
			name: "unspecified IPv4 address", args: []string{"--apiserver-advertise-address", "0.0.0.0"}, wantFamily: "v4",
			check: func(t *testing.T, c *loaded) { c.want(t, "AdvertiseAddress", c.AdvertiseAddress, detectedV4) },
		},
		{
			name: "unspecified IPv6 address", args: []string{"--apiserver-advertise-address", "::"}, wantFamily: "v6",
			check: func(t *testing.T, c *loaded) { c.want(t, "AdvertiseAddress", c.AdvertiseAddress, detectedV6) },
		},
		{
			name:   "unspecified address in the config file",
			config: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint: {advertiseAddress: 0.0.0.0}\n", wantFamily: "v4",
			check: func(t *testing.T, c *loaded) { c.want(t, "AdvertiseAddress", c.AdvertiseAddress, detectedV4) },
		},
		{
			name:   "IPv4-mapped address in the config file",
			config: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint: {advertiseAddress: \"::ffff:10.0.0.1\"}\n",
			check: func(t *testing.T, c *loaded) {
				c.want(t, "server", c.ControlPlaneEndpointURL(), "https://10.0.0.1:6443")
			},
		},
		{
			name:   "nodeRegistration.name lower-cased",
			config: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration: {name: CP-Node-1}\n",
			args:   []string{"--apiserver-advertise-address", "192.0.2.9"},
			check:  func(t *testing.T, c *loaded) { c.want(t, "NodeName", c.NodeName, "cp-node-1") },
		},
		{
			name: "--node-name used as given, with a warning", args: []string{"--node-name", "CP-1", "--apiserver-advertise-address", "192.0.2.9"},
			check:    func(t *testing.T, c *loaded) { c.want(t, "NodeName", c.NodeName, "CP-1") },
			wantWarn: `--node-name "CP-1" is used as given, as kubeadm does, while the kubelet registers the node as "cp-1"`,
		},
		{
			name: "--apiserver-cert-extra-sans lower-cased", args: []string{"--apiserver-cert-extra-sans", "API.Example.com,*.Example.ORG", "--apiserver-advertise-address", "192.0.2.9"},
			check: func(t *testing.T, c *loaded) {
				if want := []string{"api.example.com", "*.example.org"}; !reflect.DeepEqual(c.APIServerCertSANs, want) {
					t.Errorf("APIServerCertSANs = %q, want %q", c.APIServerCertSANs, want)
				}
			},
		},
		{name: "relative --cert-dir", args: []string{"--cert-dir", "relpki"}, wantErr: `invalid --cert-dir "relpki": path is not absolute: use an absolute path such as /`},
		{
			name:   "relative --cert-dir beside a config file",
			config: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n", args: []string{"--cert-dir", "./pki"},
			wantErr: `invalid --cert-dir "./pki": path is not absolute`,
		},
		{name: "service subnet too small", args: []string{"--service-cidr", "10.96.0.0/30", "--apiserver-advertise-address", "192.0.2.9"}, wantErr: `invalid networking.serviceSubnet (--service-cidr) "10.96.0.0/30": subnet 10.96.0.0/30 with 4 address(es) is too small`},
		{name: "link-local address", args: []string{"--apiserver-advertise-address", "fe80::1"}, wantErr: "link-local"},
		{name: "address not found", args: []string{"--apiserver-advertise-address", "::"}, wantFamily: "v6", wantErr: `find the advertise address (localAPIEndpoint.advertiseAddress "::"): no route; pass --apiserver-advertise-address`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var families []net.IP
			f := clusterFlags{resolveAddress: func(family net.IP) (net.IP, error) {
				families = append(families, family)
				if strings.Contains(tt.wantErr, "no route") {
					return nil, errors.New("no route")
				}
				if family != nil && family.To4() == nil {
					return net.ParseIP(detectedV6), nil
				}
				return net.ParseIP(detectedV4), nil
			}}
			kcDir := t.TempDir() // no admin.conf: never the machine's /etc/kubernetes
			f.kubeconfigDir = &kcDir
			cmd := &cobra.Command{Use: "test"}
			f.addTo(cmd.Flags())
			args := tt.args
			if !hasArg(args, "--node-name") && tt.config == "" {
				args = append(args, "--node-name", "cp-1")
			}
			if !hasArg(args, "--cert-dir") {
				args = append(args, "--cert-dir", t.TempDir())
			}
			if tt.config != "" {
				p := filepath.Join(t.TempDir(), "kubeadm.yaml")
				if err := os.WriteFile(p, []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--config", p)
			}
			if err := cmd.ParseFlags(args); err != nil {
				t.Fatal(err)
			}
			var warn bytes.Buffer
			c, err := f.load(cmd, &warn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			var gotFamilies []string
			for _, fam := range families {
				switch {
				case fam == nil:
					gotFamilies = append(gotFamilies, "any")
				case fam.To4() != nil:
					gotFamilies = append(gotFamilies, "v4")
				default:
					gotFamilies = append(gotFamilies, "v6")
				}
			}
			if want := strings.Fields(tt.wantFamily); !reflect.DeepEqual(gotFamilies, want) && (len(want) > 0 || len(gotFamilies) > 0) {
				t.Errorf("address detected for families %q, want %q", gotFamilies, want)
			}
			// Every load says where the settings came from, then warns.
			source, warnings, _ := strings.Cut(warn.String(), "\n")
			if err == nil && !strings.HasPrefix(source, "[config] using ") {
				t.Errorf("first line %q does not say where the settings came from", source)
			}
			if err == nil && tt.wantWarn == "" && warnings != "" || !strings.Contains(warn.String(), tt.wantWarn) {
				t.Errorf("warnings %q, want %q", warn.String(), tt.wantWarn)
			}
			if tt.check != nil && err == nil {
				tt.check(t, &loaded{c})
			}
		})
	}
}

// loaded is the result of load, with an assertion helper.
type loaded struct{ *config.Cluster }

func (l *loaded) want(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func hasArg(args []string, name string) bool {
	for _, a := range args {
		if a == name {
			return true
		}
	}
	return false
}
