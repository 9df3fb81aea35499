package config

import (
	"os"
	"path/filepath"
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
			// kubeadm v1.37 warns too: the field moved to InitConfiguration.timeouts.
			name:     "v1beta3's apiServer.timeoutForControlPlane warns in v1beta4",
			in:       "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  timeoutForControlPlane: 4m0s\n",
			wantWarn: []string{`unknown field "apiServer.timeoutForControlPlane" (not a kubeadm.k8s.io/v1beta4 field)`},
		},
		{
			name:     "v1beta3 is read as kubeadm v1.36 read it, with a warning",
			in:       "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nnodeRegistration:\n  name: n1\n",
			wantWarn: []string{"kubeadm.k8s.io/v1beta3 is read as kubeadm v1.36 read it; kubeadm v1.37 refuses it"},
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
		{name: "nothing for certctl", in: "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n", wantErr: "no InitConfiguration or ClusterConfiguration (kubeadm.k8s.io/v1beta4) found: add them, as `kubeadm config print init-defaults` writes them"},
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

// Documents for the kubeadm rule tests: an InitConfiguration and a
// ClusterConfiguration of version v with the given extra lines.
func initDoc(v, body string) string {
	return "apiVersion: kubeadm.k8s.io/" + v + "\nkind: InitConfiguration\n" + body + "\n"
}

func clusterDoc(v, body string) string {
	return "apiVersion: kubeadm.k8s.io/" + v + "\nkind: ClusterConfiguration\n" + body + "\n"
}

// TestLoadFileKubeadmRules: a file is read as kubeadm v1.37 reads it (each
// value here was tried with kubeadm v1.37.1 `init phase certs all` and
// `init phase kubeconfig all`): what kubeadm normalizes is normalized, what
// it refuses is refused with one line naming the file, the field and what
// to use.
func TestLoadFileKubeadmRules(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr []string // substrings of the error; nil means success
		check   func(t *testing.T, c Cluster)
	}{
		{
			name: "unspecified IPv4 address is detected like an empty one",
			in:   initDoc("v1beta4", "localAPIEndpoint: {advertiseAddress: 0.0.0.0}"),
			check: func(t *testing.T, c Cluster) {
				family, detect := c.AdvertiseAddressToDetect()
				if !detect || family.To4() == nil {
					t.Errorf("AdvertiseAddressToDetect() = %v, %v; want an IPv4 family, true", family, detect)
				}
			},
		},
		{
			name: "unspecified IPv6 address is detected, preferring IPv6",
			in:   initDoc("v1beta4", `localAPIEndpoint: {advertiseAddress: "::"}`),
			check: func(t *testing.T, c Cluster) {
				family, detect := c.AdvertiseAddressToDetect()
				if !detect || family == nil || family.To4() != nil {
					t.Errorf("AdvertiseAddressToDetect() = %v, %v; want an IPv6 family, true", family, detect)
				}
			},
		},
		{
			name: "IPv6 address in canonical form",
			in:   initDoc("v1beta4", `localAPIEndpoint: {advertiseAddress: "2001:db8:0:0::10"}`),
			check: func(t *testing.T, c Cluster) {
				if got, want := c.LocalAPIEndpointURL(), "https://[2001:db8::10]:6443"; got != want {
					t.Errorf("LocalAPIEndpointURL() = %s, want %s", got, want)
				}
				if _, detect := c.AdvertiseAddressToDetect(); detect {
					t.Error("an address to detect")
				}
			},
		},
		{
			name: "IPv4-mapped address is IPv4",
			in:   initDoc("v1beta4", `localAPIEndpoint: {advertiseAddress: "::ffff:10.0.0.1"}`),
			check: func(t *testing.T, c Cluster) {
				if c.AdvertiseAddress != "10.0.0.1" || c.ControlPlaneEndpointURL() != "https://10.0.0.1:6443" {
					t.Errorf("AdvertiseAddress = %q, URL %s; want 10.0.0.1, https://10.0.0.1:6443", c.AdvertiseAddress, c.ControlPlaneEndpointURL())
				}
			},
		},
		{
			name: "node name and certSANs lower-cased, IP SANs canonical",
			in: initDoc("v1beta4", "nodeRegistration: {name: CP-Node-1}") + "---\n" +
				clusterDoc("v1beta4", `apiServer: {certSANs: ["*.Example.ORG", API.example.com, "2001:DB8:0::AB", 010.0.0.2]}`),
			check: func(t *testing.T, c Cluster) {
				want := []string{"*.example.org", "api.example.com", "2001:db8::ab", "10.0.0.2"}
				if c.NodeName != "cp-node-1" || !reflect.DeepEqual(c.APIServerCertSANs, want) {
					t.Errorf("NodeName %q, certSANs %q; want cp-node-1, %q", c.NodeName, c.APIServerCertSANs, want)
				}
			},
		},
		{
			name: "control-plane endpoint's IP written as given, its SAN canonical",
			in:   clusterDoc("v1beta4", `controlPlaneEndpoint: "[2001:db8:0:0::20]:7443"`),
			check: func(t *testing.T, c Cluster) {
				host, _, _ := SplitHostPort(c.ControlPlaneEndpoint)
				if url := c.ControlPlaneEndpointURL(); url != "https://[2001:db8:0:0::20]:7443" || host != "2001:db8::20" {
					t.Errorf("URL %s, host %s; want https://[2001:db8:0:0::20]:7443, 2001:db8::20", url, host)
				}
			},
		},
		{name: "smallest IPv4 service subnet", in: clusterDoc("v1beta4", "networking: {serviceSubnet: 10.96.0.0/28}")},
		{name: "dual-stack service subnet", in: clusterDoc("v1beta4", `networking: {serviceSubnet: "fd00::/108,10.96.0.0/16"}`)},
		{name: "known feature gate", in: clusterDoc("v1beta4", "featureGates: {RootlessControlPlane: true}")},

		{name: "link-local address", in: initDoc("v1beta4", `localAPIEndpoint: {advertiseAddress: "fe80::1"}`), wantErr: []string{`localAPIEndpoint.advertiseAddress "fe80::1"`, "link-local", "use the node's IP"}},
		{name: "multicast address", in: initDoc("v1beta4", "localAPIEndpoint: {advertiseAddress: 224.0.0.1}"), wantErr: []string{"224.0.0.1", "multicast"}},
		{name: "not an address", in: initDoc("v1beta4", "localAPIEndpoint: {advertiseAddress: 1.2.3}"), wantErr: []string{`"1.2.3": not an IP address`}},
		{name: "bad node name", in: initDoc("v1beta4", "nodeRegistration: {name: Bad_Name}"), wantErr: []string{`nodeRegistration.name "Bad_Name"`, "RFC 1123"}},
		{name: "blank node name", in: initDoc("v1beta4", `nodeRegistration: {name: "  "}`), wantErr: []string{"nodeRegistration.name", "blank"}},
		{name: "etcd SANs are not lower-cased", in: clusterDoc("v1beta4", "etcd: {local: {serverCertSANs: [Etcd.Example.com]}}"), wantErr: []string{`etcd.local.serverCertSANs entry "Etcd.Example.com"`, `use "etcd.example.com"`}},
		{name: "endpoint is not lower-cased", in: clusterDoc("v1beta4", "controlPlaneEndpoint: CP.Example.COM:6443"), wantErr: []string{`controlPlaneEndpoint "CP.Example.COM:6443"`, `use "cp.example.com"`}},
		{name: "service subnet too small", in: clusterDoc("v1beta4", "networking: {serviceSubnet: 10.96.0.0/30}"), wantErr: []string{`networking.serviceSubnet "10.96.0.0/30"`, "with 4 address(es) is too small, the minimum is 10", "use a /12 to /28 subnet"}},
		{name: "IPv6 service subnet too small", in: clusterDoc("v1beta4", `networking: {serviceSubnet: "fd00::/125"}`), wantErr: []string{"with 8 address(es) is too small", "use a /108 to /124 subnet"}},
		{name: "service subnet too large", in: clusterDoc("v1beta4", `networking: {serviceSubnet: "fd00::/64"}`), wantErr: []string{"is too large; for 128-bit addresses, the mask must be >= 108"}},
		{name: "IPv4 service subnet too large", in: clusterDoc("v1beta4", "networking: {serviceSubnet: 10.0.0.0/8}"), wantErr: []string{"for 32-bit addresses, the mask must be >= 12"}},
		{name: "two IPv4 service subnets", in: clusterDoc("v1beta4", `networking: {serviceSubnet: "10.96.0.0/12,10.97.0.0/16"}`), wantErr: []string{"expected one (IPv4 or IPv6) CIDR or two CIDRs from each family"}},
		{name: "three service subnets", in: clusterDoc("v1beta4", `networking: {serviceSubnet: "10.96.0.0/12,fd00::/108,10.1.0.0/16"}`), wantErr: []string{"expected one (IPv4 or IPv6) CIDR or two CIDRs from each family"}},
		{name: "space in service subnets", in: clusterDoc("v1beta4", `networking: {serviceSubnet: "10.96.0.0/12, fd00::/108"}`), wantErr: []string{"couldn't parse subnet", "without spaces"}},
		{name: "relative certificatesDir", in: clusterDoc("v1beta4", "certificatesDir: relpki"), wantErr: []string{`certificatesDir "relpki": path is not absolute`, "use an absolute path"}},
		{name: "v1beta3 feature gate in v1beta4", in: clusterDoc("v1beta4", "featureGates: {PublicKeysECDSA: true}"), wantErr: []string{"featureGates: PublicKeysECDSA is not a valid feature name", "encryptionAlgorithm: ECDSA-P256"}},
		{
			name: "separator with a comment after a tab, as kubeadm splits it",
			in:   initDoc("v1beta4", "nodeRegistration: {name: cp-1}") + "---\t# the cluster\n" + clusterDoc("v1beta4", "certificatesDir: /srv/pki"),
			check: func(t *testing.T, c Cluster) {
				if c.CertificatesDir != "/srv/pki" || c.NodeName != "cp-1" {
					t.Errorf("certificatesDir %q, node %q; want /srv/pki, cp-1 (both documents read)", c.CertificatesDir, c.NodeName)
				}
			},
		},
		{
			name: "separator with a comment right after it",
			in:   clusterDoc("v1beta4", "certificatesDir: /srv/pki") + "---# the node\r\n" + initDoc("v1beta4", "nodeRegistration: {name: cp-1}"),
			check: func(t *testing.T, c Cluster) {
				if c.CertificatesDir != "/srv/pki" || c.NodeName != "cp-1" {
					t.Errorf("certificatesDir %q, node %q; want /srv/pki, cp-1 (both documents read)", c.CertificatesDir, c.NodeName)
				}
			},
		},
		{name: "text after a separator", in: initDoc("v1beta4", "nodeRegistration: {name: cp-1}") + "--- foo\n" + clusterDoc("v1beta4", "certificatesDir: /srv/pki"), wantErr: []string{`line 4: invalid YAML document separator "--- foo"`, "write --- alone on the line"}},
		{name: "four dashes", in: initDoc("v1beta4", "") + "----\n" + clusterDoc("v1beta4", ""), wantErr: []string{`line 4: invalid YAML document separator "----"`}},
		{name: "empty certificateValidityPeriod", in: clusterDoc("v1beta4", `certificateValidityPeriod: ""`), wantErr: []string{`invalid certificateValidityPeriod "": time: invalid duration ""`, "use a duration in hours such as 8760h, or leave the field out"}},
		{name: "empty caCertificateValidityPeriod", in: clusterDoc("v1beta4", "caCertificateValidityPeriod: ''"), wantErr: []string{`invalid caCertificateValidityPeriod "": time: invalid duration ""`, "such as 87600h"}},
		{name: "validity in days", in: clusterDoc("v1beta4", "certificateValidityPeriod: 365d"), wantErr: []string{`invalid certificateValidityPeriod "365d"`, "use a duration in hours"}},
		{
			name: "null validities are the defaults, as in kubeadm",
			in:   clusterDoc("v1beta4", "certificateValidityPeriod: null\ncaCertificateValidityPeriod: ~"),
			check: func(t *testing.T, c Cluster) {
				if d := Default(); c.CertificateValidity != d.CertificateValidity || c.CACertificateValidity != d.CACertificateValidity {
					t.Errorf("validities %v, %v; want the defaults %v, %v", c.CertificateValidity, c.CACertificateValidity, d.CertificateValidity, d.CACertificateValidity)
				}
			},
		},
		{name: "unknown feature gate", in: clusterDoc("v1beta4", "featureGates: {NoSuchGate: false}"), wantErr: []string{"NoSuchGate is not a valid feature name", "knows RootlessControlPlane"}},
		{name: "feature gate not a bool", in: clusterDoc("v1beta4", "featureGates: {RootlessControlPlane: maybe}"), wantErr: []string{"(ClusterConfiguration): invalid featureGates: a string where kubeadm wants true or false"}},
		{name: "port with a fraction", in: initDoc("v1beta4", "localAPIEndpoint: {bindPort: 6443.5}"), wantErr: []string{"(InitConfiguration): invalid localAPIEndpoint.bindPort: number 6443.5 where kubeadm wants a whole number from -2147483648 to 2147483647"}},
		{name: "port out of the field's range", in: initDoc("v1beta4", "localAPIEndpoint: {bindPort: 99999999999}"), wantErr: []string{"invalid localAPIEndpoint.bindPort: number 99999999999 where kubeadm wants a whole number from"}},
		{name: "port as a string", in: initDoc("v1beta4", `localAPIEndpoint: {bindPort: "6443"}`), wantErr: []string{"invalid localAPIEndpoint.bindPort: a string where kubeadm wants a whole number"}},
		{name: "nested field of the struct v1beta4 embeds", in: clusterDoc("v1beta4", "networking: {serviceSubnet: 5}"), wantErr: []string{"(ClusterConfiguration): invalid networking.serviceSubnet: a number where kubeadm wants"}},
		{name: "local and external etcd", in: clusterDoc("v1beta4", "etcd: {local: {}, external: {endpoints: [https://10.0.0.5:2379]}}"), wantErr: []string{"etcd.local and etcd.external are mutually exclusive"}},
		{name: "kind twice", in: clusterDoc("v1beta4", "") + "---\n" + initDoc("v1beta4", "") + "---\n" + clusterDoc("v1beta4", "clusterName: b"), wantErr: []string{`kind "ClusterConfiguration" is specified twice in YAML file (documents 1 and 3)`, "merge them"}},
		{name: "kind twice in two versions", in: clusterDoc("v1beta4", "") + "---\n" + clusterDoc("v1beta3", ""), wantErr: []string{`kind "ClusterConfiguration" is specified twice`}},
		{name: "kind certctl ignores twice", in: clusterDoc("v1beta4", "") + "---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n", wantErr: []string{`kind "KubeletConfiguration" is specified twice`}},
		{name: "unknown kind twice", in: clusterDoc("v1beta4", "") + "---\napiVersion: example.com/v1\nkind: Gadget\n---\napiVersion: example.com/v2\nkind: Gadget\n", wantErr: []string{`kind "Gadget" is specified twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kubeadm.yaml")
			if err := os.WriteFile(path, []byte(tt.in), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := LoadFile(path, Default())
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, want one containing %q", tt.wantErr)
				}
				msg := err.Error()
				for _, w := range append([]string{"config file " + path + ": "}, tt.wantErr...) {
					if !strings.Contains(msg, w) {
						t.Errorf("error %q does not contain %q", msg, w)
					}
				}
				if strings.Contains(msg, "\n") {
					t.Errorf("error has more than one line: %q", msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Warnings) != 0 {
				t.Errorf("warnings: %q", f.Warnings)
			}
			if tt.check != nil {
				tt.check(t, f.Cluster)
			}
		})
	}
}

// TestParseV1beta3 reads v1beta3 as kubeadm v1.36 did: the key algorithm
// from the PublicKeysECDSA feature gate, no encryptionAlgorithm nor
// validity fields (unknown fields: a warning, and ignored).
func TestParseV1beta3(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantAlg  string
		wantWarn []string // after the version's own warning
	}{
		{name: "no gate: RSA-2048", body: "clusterName: old", wantAlg: "RSA-2048"},
		{name: "PublicKeysECDSA true: ECDSA-P256", body: "featureGates: {PublicKeysECDSA: true}", wantAlg: "ECDSA-P256"},
		{name: "PublicKeysECDSA false: RSA-2048", body: "featureGates: {PublicKeysECDSA: false, RootlessControlPlane: false}", wantAlg: "RSA-2048"},
		{
			name:     "encryptionAlgorithm is not a v1beta3 field",
			body:     "encryptionAlgorithm: RSA-4096",
			wantAlg:  "RSA-2048",
			wantWarn: []string{`unknown field "encryptionAlgorithm" (not a kubeadm.k8s.io/v1beta3 field), ignored: v1beta3 selects ECDSA-P256 keys with featureGates: {PublicKeysECDSA: true}`},
		},
		{
			name:     "encryptionAlgorithm beside the gate",
			body:     "encryptionAlgorithm: RSA-4096\nfeatureGates: {PublicKeysECDSA: true}",
			wantAlg:  "ECDSA-P256",
			wantWarn: []string{`unknown field "encryptionAlgorithm"`},
		},
		{
			name:     "validity is not a v1beta3 field",
			body:     "certificateValidityPeriod: 1h\ncaCertificateValidityPeriod: 2h",
			wantAlg:  "RSA-2048",
			wantWarn: []string{`unknown field "caCertificateValidityPeriod"`, `unknown field "certificateValidityPeriod"`},
		},
		{
			name:     "a gate kubeadm v1.37 does not know warns",
			body:     "featureGates: {EtcdLearnerMode: true}",
			wantAlg:  "RSA-2048",
			wantWarn: []string{"featureGates.EtcdLearnerMode is not a feature gate of kubeadm v1.37, ignored"},
		},
		{name: "apiServer.timeoutForControlPlane is a v1beta3 field", body: "apiServer: {timeoutForControlPlane: 4m0s}", wantAlg: "RSA-2048"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(clusterDoc("v1beta3", tt.body)), Default())
			if err != nil {
				t.Fatal(err)
			}
			if f.Cluster.EncryptionAlgorithm != tt.wantAlg {
				t.Errorf("EncryptionAlgorithm = %q, want %q", f.Cluster.EncryptionAlgorithm, tt.wantAlg)
			}
			if f.Cluster.CertificateValidity != DefaultCertificateValidity || f.Cluster.CACertificateValidity != DefaultCACertificateValidity {
				t.Errorf("validities %v, %v; want kubeadm's defaults", f.Cluster.CertificateValidity, f.Cluster.CACertificateValidity)
			}
			want := append([]string{"kubeadm v1.37 refuses it"}, tt.wantWarn...)
			if len(f.Warnings) != len(want) {
				t.Fatalf("warnings = %q, want %d", f.Warnings, len(want))
			}
			for i, w := range want {
				if !strings.Contains(f.Warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, f.Warnings[i], w)
				}
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
		{"IP with leading zeros, as kubeadm reads it", func(c *Cluster) { c.AdvertiseAddress = "010.0.0.1" }, ""},
		{"loopback kept", func(c *Cluster) { c.AdvertiseAddress = "127.0.0.1" }, ""},
		{"unspecified address left", func(c *Cluster) { c.AdvertiseAddress = "0.0.0.0" }, "unspecified address: leave it empty"},
		{"link-local address", func(c *Cluster) { c.AdvertiseAddress = "169.254.1.1" }, "link-local"},
		{"broadcast address", func(c *Cluster) { c.AdvertiseAddress = "255.255.255.255" }, "broadcast"},
		{"unknown algorithm", func(c *Cluster) { c.EncryptionAlgorithm = "DSA" }, "encryptionAlgorithm"},
		{"bad node name", func(c *Cluster) { c.NodeName = "Not_Valid" }, "nodeRegistration.name"},
		{"upper-case --node-name, kept as kubeadm keeps it", func(c *Cluster) { c.NodeName = "CP-1" }, ""},
		{"bad SAN", func(c *Cluster) { c.APIServerCertSANs = []string{"bad_name!"} }, "apiServer.certSANs"},
		{"wildcard SAN", func(c *Cluster) { c.APIServerCertSANs = []string{"*.example.com"} }, ""},
		{"upper-case etcd SAN", func(c *Cluster) { c.EtcdPeerCertSANs = []string{"Peer.example.com"} }, `use "peer.example.com"`},
		{"bad endpoint port", func(c *Cluster) { c.ControlPlaneEndpoint = "cp.example.com:99999" }, "controlPlaneEndpoint"},
		{"endpoint port with a sign, which kubeadm refuses", func(c *Cluster) { c.ControlPlaneEndpoint = "cp.example.com:+6443" }, `controlPlaneEndpoint (--control-plane-endpoint) "cp.example.com:+6443": port "+6443" must be a number`},
		{"endpoint port with leading zeros, as kubeadm reads it", func(c *Cluster) { c.ControlPlaneEndpoint = "cp.example.com:06443" }, ""},
		{"bad port", func(c *Cluster) { c.BindPort = 0 }, "bindPort"},
		{"bad dns domain", func(c *Cluster) { c.DNSDomain = "UPPER..case" }, "dnsDomain"},
		{"bad dns domain says what to use", func(c *Cluster) { c.DNSDomain = "corp_local" }, `networking.dnsDomain (--service-dns-domain) "corp_local": a lowercase RFC 1123 subdomain`},
		{"bad dns domain names a fix", func(c *Cluster) { c.DNSDomain = "corp_local" }, "use a DNS domain such as cluster.local"},
		{"upper-case dns domain names its lower case", func(c *Cluster) { c.DNSDomain = "Corp.Local" }, `use "corp.local"`},
		{"zero validity", func(c *Cluster) { c.CertificateValidity = 0 }, "invalid certificateValidityPeriod (--certificate-validity) 0s: must be positive: use a duration in hours such as 8760h"},
		{"negative CA validity", func(c *Cluster) { c.CACertificateValidity = -time.Hour }, "invalid caCertificateValidityPeriod (--ca-certificate-validity) -1h0m0s: must be positive: use a duration in hours such as 87600h"},
		{"subnet too small", func(c *Cluster) { c.ServiceSubnet = "10.96.0.0/32" }, "too small"},
		{"subnet too large", func(c *Cluster) { c.ServiceSubnet = "fd00::/64" }, "(--service-cidr) \"fd00::/64\": subnet fd00::/64 is too large"},
		{"two IPv4 subnets", func(c *Cluster) { c.ServiceSubnet = "10.96.0.0/12,10.97.0.0/16" }, "two CIDRs from each family"},
		{"dual-stack subnets", func(c *Cluster) { c.ServiceSubnet = "fd00::/108,10.96.0.0/12" }, ""},
		{"relative cert dir", func(c *Cluster) { c.CertificatesDir = "relpki" }, "certificatesDir (--cert-dir) \"relpki\": path is not absolute"},
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
	tests := []struct {
		advertise, endpoint string
		wantLocal, wantCPE  string
		wantHost            string // SplitHostPort's host: the apiserver SAN
	}{
		{advertise: "2001:db8::10", wantLocal: "https://[2001:db8::10]:6443", wantCPE: "https://[2001:db8::10]:6443"},
		// kubeadm parses the advertise address and writes it in canonical form.
		{advertise: "2001:db8:0:0::10", wantLocal: "https://[2001:db8::10]:6443", wantCPE: "https://[2001:db8::10]:6443"},
		{advertise: "::ffff:10.0.0.1", wantLocal: "https://10.0.0.1:6443", wantCPE: "https://10.0.0.1:6443"},
		{advertise: "10.0.0.1", endpoint: "cp.example.com", wantLocal: "https://10.0.0.1:6443", wantCPE: "https://cp.example.com:6443", wantHost: "cp.example.com"},
		{advertise: "10.0.0.1", endpoint: "cp.example.com:443", wantLocal: "https://10.0.0.1:6443", wantCPE: "https://cp.example.com:443", wantHost: "cp.example.com"},
		// It writes the endpoint's host as given, but its SAN is the IP.
		{advertise: "10.0.0.1", endpoint: "[2001:db8:0:0::20]:7443", wantLocal: "https://10.0.0.1:6443", wantCPE: "https://[2001:db8:0:0::20]:7443", wantHost: "2001:db8::20"},
		{advertise: "10.0.0.1", endpoint: "::ffff:10.0.0.2", wantLocal: "https://10.0.0.1:6443", wantCPE: "https://[::ffff:10.0.0.2]:6443", wantHost: "10.0.0.2"},
		{advertise: "10.0.0.1", endpoint: "010.000.000.002", wantLocal: "https://10.0.0.1:6443", wantCPE: "https://010.000.000.002:6443", wantHost: "10.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.advertise+" "+tt.endpoint, func(t *testing.T) {
			c := Default()
			c.AdvertiseAddress, c.ControlPlaneEndpoint = tt.advertise, tt.endpoint
			if got := c.LocalAPIEndpointURL(); got != tt.wantLocal {
				t.Errorf("LocalAPIEndpointURL() = %s, want %s", got, tt.wantLocal)
			}
			if got := c.ControlPlaneEndpointURL(); got != tt.wantCPE {
				t.Errorf("ControlPlaneEndpointURL() = %s, want %s", got, tt.wantCPE)
			}
			if tt.endpoint != "" {
				if host, _, err := SplitHostPort(tt.endpoint); err != nil || host != tt.wantHost {
					t.Errorf("SplitHostPort(%q) = %q, %v; want %q", tt.endpoint, host, err, tt.wantHost)
				}
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	c := Default()
	c.AdvertiseAddress = "2001:DB8:0:0::10"
	c.APIServerCertSANs = []string{"API.Example.com", "0010.0.0.1", "*.Example.ORG"}
	c.EtcdServerCertSANs = []string{"Etcd.example.com", "::ffff:192.0.2.1"}
	c.NodeName = "CP-1"
	c.Normalize()
	want := Default()
	want.AdvertiseAddress = "2001:db8::10"
	want.APIServerCertSANs = []string{"api.example.com", "10.0.0.1", "*.example.org"}
	want.EtcdServerCertSANs = []string{"Etcd.example.com", "192.0.2.1"} // kubeadm does not lower-case etcd's SANs: Validate refuses them
	want.NodeName = "CP-1"                                              // nor --node-name
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Normalize:\n got  %+v\n want %+v", c, want)
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
