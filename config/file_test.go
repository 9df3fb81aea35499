package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseKubeadmFile(t *testing.T) {
	data, err := os.ReadFile("testdata/kubeadm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(data, Default())
	if err != nil {
		t.Fatal(err)
	}
	want := Cluster{
		CertificatesDir:       "/etc/kubernetes/pki",
		ClusterName:           "prod-eu",
		ControlPlaneEndpoint:  "cp.example.com:6443",
		ServiceSubnet:         "10.100.0.0/16",
		DNSDomain:             "corp.local",
		APIServerCertSANs:     []string{"api.example.com", "203.0.113.7"},
		EtcdServerCertSANs:    []string{"etcd.example.com"},
		EtcdPeerCertSANs:      []string{"192.0.2.9"},
		EncryptionAlgorithm:   "ECDSA-P256",
		CertificateValidity:   4380 * time.Hour,
		CACertificateValidity: 43800 * time.Hour,
		AdvertiseAddress:      "198.51.100.10",
		BindPort:              6443,
		NodeName:              "cp-1",
	}
	if !reflect.DeepEqual(f.Cluster, want) {
		t.Errorf("cluster\n got  %+v\n want %+v", f.Cluster, want)
	}
	if len(f.Warnings) != 0 {
		t.Errorf("warnings for a valid kubeadm file: %v", f.Warnings)
	}
	if err := f.Cluster.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantErr  string   // substring; "" means success
		wantWarn []string // substrings, in order
		check    func(t *testing.T, c Cluster)
	}{
		{
			name: "cluster configuration only keeps defaults",
			in:   "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n",
			check: func(t *testing.T, c Cluster) {
				if !reflect.DeepEqual(c, Default()) {
					t.Errorf("got %+v, want defaults", c)
				}
			},
		},
		{
			name:     "unknown field and kind warn",
			in:       "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nfoo: 1\nnetworking:\n  bar: x\n---\napiVersion: example.com/v1\nkind: Gadget\n",
			wantWarn: []string{`unknown field "foo"`, `unknown field "networking.bar"`, `unknown kind "Gadget"`},
		},
		{
			name:     "v1beta3 is read with a warning",
			in:       "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nnodeRegistration:\n  name: n1\n",
			wantWarn: []string{"deprecated"},
			check: func(t *testing.T, c Cluster) {
				if c.NodeName != "n1" {
					t.Errorf("NodeName = %q", c.NodeName)
				}
			},
		},
		{
			name: "external etcd",
			in:   "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\netcd:\n  external:\n    endpoints: [https://10.0.0.5:2379]\n",
			check: func(t *testing.T, c Cluster) {
				if !c.ExternalEtcd {
					t.Error("ExternalEtcd not set")
				}
			},
		},
		{
			name: "certctl's signer names beside kubeadm's documents",
			in: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n---\n" +
				"apiVersion: certctl.io/v1alpha1\nkind: CertctlConfiguration\nrenewal:\n  signerNames:\n    apiserver: example.com/serving\n    admin.conf: example.com/client\n",
			check: func(t *testing.T, c Cluster) {
				want := map[string]string{"apiserver": "example.com/serving", "admin.conf": "example.com/client"}
				if !reflect.DeepEqual(c.SignerNames, want) {
					t.Errorf("SignerNames = %v, want %v", c.SignerNames, want)
				}
			},
		},
		{
			name:     "unknown field of certctl's document warns",
			in:       "apiVersion: certctl.io/v1alpha1\nkind: CertctlConfiguration\nrenewal:\n  signerName: {}\n",
			wantWarn: []string{`unknown field "renewal.signerName"`},
		},
		{name: "certctl's kind in kubeadm's group", in: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: CertctlConfiguration\n", wantErr: `use certctl.io/v1alpha1`},
		{name: "kubeadm's kind in certctl's group", in: "apiVersion: certctl.io/v1alpha1\nkind: ClusterConfiguration\n", wantErr: `use kubeadm.k8s.io/v1beta4`},
		{name: "malformed YAML", in: "apiVersion: [\n", wantErr: "malformed YAML"},
		{name: "no kind", in: "apiVersion: kubeadm.k8s.io/v1beta4\n", wantErr: "apiVersion and kind must be set"},
		{name: "unsupported version", in: "apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\n", wantErr: "unsupported apiVersion"},
		{name: "nothing for certctl", in: "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n", wantErr: "no InitConfiguration or ClusterConfiguration"},
		{name: "bad duration", in: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificateValidityPeriod: 1year\n", wantErr: "invalid certificateValidityPeriod"},
		{name: "wrong type", in: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint:\n  bindPort: high\n", wantErr: "InitConfiguration"},
		{name: "a list, not a mapping", in: "- a\n- b\n", wantErr: "not a YAML mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.in), Default())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Warnings) != len(tt.wantWarn) {
				t.Fatalf("warnings = %q, want %d", f.Warnings, len(tt.wantWarn))
			}
			for i, w := range tt.wantWarn {
				if !strings.Contains(f.Warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, f.Warnings[i], w)
				}
			}
			if tt.check != nil {
				tt.check(t, f.Cluster)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	valid := func() Cluster {
		c := Default()
		c.NodeName, c.AdvertiseAddress = "cp-1", "198.51.100.10"
		return c
	}
	tests := []struct {
		name    string
		mutate  func(*Cluster)
		wantErr string
	}{
		{"valid", func(*Cluster) {}, ""},
		{"bad CIDR", func(c *Cluster) { c.ServiceSubnet = "10.96.0.0/99" }, "serviceSubnet"},
		{"bad IP", func(c *Cluster) { c.AdvertiseAddress = "300.1.1.1" }, "advertiseAddress"},
		{"unknown algorithm", func(c *Cluster) { c.EncryptionAlgorithm = "DSA" }, "encryptionAlgorithm"},
		{"bad node name", func(c *Cluster) { c.NodeName = "Not_Valid" }, "nodeRegistration.name"},
		{"bad SAN", func(c *Cluster) { c.APIServerCertSANs = []string{"bad_name!"} }, "apiServer.certSANs"},
		{"wildcard SAN", func(c *Cluster) { c.APIServerCertSANs = []string{"*.example.com"} }, ""},
		{"bad endpoint port", func(c *Cluster) { c.ControlPlaneEndpoint = "cp.example.com:99999" }, "controlPlaneEndpoint"},
		{"bad port", func(c *Cluster) { c.BindPort = 0 }, "bindPort"},
		{"bad dns domain", func(c *Cluster) { c.DNSDomain = "UPPER..case" }, "dnsDomain"},
		{"zero validity", func(c *Cluster) { c.CertificateValidity = 0 }, "certificateValidityPeriod"},
		{"subnet too small", func(c *Cluster) { c.ServiceSubnet = "10.96.0.0/32" }, "too small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestEndpointURLs(t *testing.T) {
	c := Default()
	c.AdvertiseAddress = "2001:db8::10"
	if got := c.LocalAPIEndpointURL(); got != "https://[2001:db8::10]:6443" {
		t.Errorf("local = %s", got)
	}
	if got := c.ControlPlaneEndpointURL(); got != "https://[2001:db8::10]:6443" {
		t.Errorf("no endpoint = %s", got)
	}
	c.ControlPlaneEndpoint = "cp.example.com"
	if got := c.ControlPlaneEndpointURL(); got != "https://cp.example.com:6443" {
		t.Errorf("endpoint without port = %s", got)
	}
	c.ControlPlaneEndpoint = "cp.example.com:443"
	if got := c.ControlPlaneEndpointURL(); got != "https://cp.example.com:443" {
		t.Errorf("endpoint with port = %s", got)
	}
}

// FuzzParse: any input is either an error or a cluster; never a panic.
func FuzzParse(f *testing.F) {
	seed, _ := os.ReadFile("testdata/kubeadm.yaml")
	f.Add(seed)
	f.Add([]byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n---\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, Default())
		if err == nil && file == nil {
			t.Fatal("nil file without error")
		}
		if err == nil {
			_ = file.Cluster.Validate()
		}
	})
}
