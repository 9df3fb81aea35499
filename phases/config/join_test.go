package config

import (
	"reflect"
	"strings"
	"testing"
)

// joinDoc is a kubeadm v1.37 JoinConfiguration of a control-plane node,
// as `kubeadm config print join-defaults` spells it, with body appended.
func joinDoc(v, body string) string {
	return "apiVersion: kubeadm.k8s.io/" + v + "\nkind: JoinConfiguration\n" +
		"discovery:\n  bootstrapToken:\n    apiServerEndpoint: cp.example.com:6443\n    token: abcdef.0123456789abcdef\n    unsafeSkipCAVerification: true\n" +
		"nodeRegistration:\n  name: CP-2\n  criSocket: unix:///var/run/containerd/containerd.sock\n" + body + "\n"
}

const joinControlPlaneBody = "controlPlane:\n  certificateKey: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n  localAPIEndpoint:\n    advertiseAddress: 192.0.2.12\n    bindPort: 6444\n"

func TestParseJoin(t *testing.T) {
	cluster := clusterDoc("v1beta4", "controlPlaneEndpoint: cp.example.com:6443\ncertificatesDir: /srv/pki\napiServer:\n  certSANs: [API.example.com]\netcd:\n  local:\n    serverCertSANs: [etcd.example.com]")
	for _, tc := range []struct {
		name     string
		in       string
		want     func(c *Cluster) // edits the expected Cluster from Default()
		wantWarn string
		wantErr  []string
	}{
		{
			name: "control-plane join with the cluster's settings",
			in:   joinDoc("v1beta4", joinControlPlaneBody) + "---\n" + cluster,
			want: func(c *Cluster) {
				c.Joining = true
				c.NodeName, c.AdvertiseAddress, c.BindPort = "cp-2", "192.0.2.12", 6444
				c.ControlPlaneEndpoint, c.CertificatesDir = "cp.example.com:6443", "/srv/pki"
				c.APIServerCertSANs, c.EtcdServerCertSANs = []string{"api.example.com"}, []string{"etcd.example.com"}
			},
		},
		{
			name: "cluster first, v1beta3",
			in:   clusterDoc("v1beta3", "controlPlaneEndpoint: cp.example.com") + "---\n" + joinDoc("v1beta3", joinControlPlaneBody),
			want: func(c *Cluster) {
				c.Joining = true
				c.NodeName, c.AdvertiseAddress, c.BindPort = "cp-2", "192.0.2.12", 6444
				c.ControlPlaneEndpoint = "cp.example.com"
			},
			wantWarn: "v1beta3 is read as kubeadm v1.36 read it",
		},
		{
			name: "empty localAPIEndpoint keeps the defaults to detect",
			in:   joinDoc("v1beta4", "controlPlane: {}") + "---\n" + clusterDoc("v1beta4", ""),
			want: func(c *Cluster) { c.Joining = true; c.NodeName = "cp-2" },
		},
		{
			name: "an InitConfiguration wins, as in kubeadm init",
			in:   initDoc("v1beta4", "nodeRegistration:\n  name: cp-1") + "---\n" + joinDoc("v1beta4", joinControlPlaneBody) + "---\n" + clusterDoc("v1beta4", ""),
			want: func(c *Cluster) { c.NodeName = "cp-1" },
			// The join document alone would be an error (no controlPlane
			// below): with an InitConfiguration it is not looked at.
			wantWarn: "document 2 (JoinConfiguration): ignored, as kubeadm init ignores it",
		},
		{
			name:     "a worker's JoinConfiguration beside an InitConfiguration is ignored",
			in:       initDoc("v1beta4", "") + "---\n" + joinDoc("v1beta4", ""),
			want:     func(c *Cluster) {},
			wantWarn: "ignored, as kubeadm init ignores it",
		},
		{
			name:    "worker",
			in:      joinDoc("v1beta4", "") + "---\n" + cluster,
			wantErr: []string{"document 1 (JoinConfiguration): no controlPlane", "worker node", "controlPlane.localAPIEndpoint"},
		},
		{
			name:    "no ClusterConfiguration",
			in:      joinDoc("v1beta4", joinControlPlaneBody),
			wantErr: []string{"the cluster's settings", "are missing", "kubeadm-config"},
		},
		{
			name:    "bad advertise address",
			in:      joinDoc("v1beta4", "controlPlane:\n  localAPIEndpoint:\n    advertiseAddress: cp-2.example.com") + "---\n" + cluster,
			wantErr: []string{"document 1 (JoinConfiguration): invalid localAPIEndpoint.advertiseAddress"},
		},
		{
			name:    "unsupported version",
			in:      "apiVersion: kubeadm.k8s.io/v1beta2\nkind: JoinConfiguration\n---\n" + cluster,
			wantErr: []string{`unsupported apiVersion "kubeadm.k8s.io/v1beta2"`},
		},
		{
			// tc.want nil: the warning is checked below.
			name: "unknown field warns",
			in:   joinDoc("v1beta4", joinControlPlaneBody+"  extra: 1") + "---\n" + cluster,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.in), Default())
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, want one with %q", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], `unknown field "controlPlane.extra"`) {
					t.Errorf("warnings %q, want the unknown field controlPlane.extra", f.Warnings)
				}
				return
			}
			want := Default()
			tc.want(&want)
			want.Normalize()
			got := f.Cluster
			got.Normalize()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			if tc.wantWarn == "" && len(f.Warnings) > 0 {
				t.Errorf("warnings %q", f.Warnings)
			}
			for _, w := range f.Warnings {
				if !strings.Contains(w, tc.wantWarn) {
					t.Errorf("warning %q, want only warnings with %q", w, tc.wantWarn)
				}
			}
			if tc.wantWarn != "" && len(f.Warnings) == 0 {
				t.Errorf("no warning, want one with %q", tc.wantWarn)
			}
		})
	}
}

func TestParseExternalEtcd(t *testing.T) {
	doc := func(body string) string {
		return clusterDoc("v1beta4", "etcd:\n  external:\n    endpoints: [https://10.0.0.5:2379]\n"+body)
	}
	f, err := Parse([]byte(doc("    caFile: /etc/etcd/ca.crt\n    certFile: /etc/etcd/client.crt\n    keyFile: /etc/etcd/client.key")), Default())
	if err != nil {
		t.Fatal(err)
	}
	want := ExternalEtcd{CAFile: "/etc/etcd/ca.crt", CertFile: "/etc/etcd/client.crt", KeyFile: "/etc/etcd/client.key"}
	got := f.Cluster.EtcdExternal
	got.Endpoints = nil
	if !f.Cluster.ExternalEtcd || !reflect.DeepEqual(got, want) {
		t.Errorf("external etcd %v %+v, want %+v", f.Cluster.ExternalEtcd, f.Cluster.EtcdExternal, want)
	}
	for body, wantErr := range map[string]string{
		"    caFile: etcd/ca.crt": `invalid etcd.external.caFile "etcd/ca.crt": path is not absolute`,
		"    keyFile: [a]":        "invalid etcd.external",
	} {
		if _, err := Parse([]byte(doc(body)), Default()); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: error %v, want %q", body, err, wantErr)
		}
	}
}

// TestCertificateKeyOfFile: LoadFile gives the key of the kubeadm-certs
// Secret a file holds, as kubeadm reads it: the InitConfiguration's
// certificateKey (init phase upload-certs), else the JoinConfiguration's
// controlPlane.certificateKey (join), which an InitConfiguration beside it
// overrides, as it overrides the rest of the JoinConfiguration.
func TestCertificateKeyOfFile(t *testing.T) {
	cluster := clusterDoc("v1beta4", "controlPlaneEndpoint: cp.example.com:6443")
	initKey := strings.Repeat("ab", 32)
	initCfg := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\ncertificateKey: " + initKey + "\n"
	for _, tc := range []struct {
		name, in, want string
	}{
		{"join", joinDoc("v1beta4", joinControlPlaneBody) + "---\n" + cluster, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
		{"init", initCfg + "---\n" + cluster, initKey},
		{"init beside join", joinDoc("v1beta4", joinControlPlaneBody) + "---\n" + initCfg + "---\n" + cluster, initKey},
		{"none", cluster, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.in), Default())
			if err != nil {
				t.Fatal(err)
			}
			if f.CertificateKey != tc.want {
				t.Errorf("CertificateKey %q, want %q", f.CertificateKey, tc.want)
			}
		})
	}
}

// TestDiscoveryKubeconfigOfFile: LoadFile gives the JoinConfiguration's
// discovery.file.kubeConfigPath, the kubeconfig kubeadm join reads the
// kubeadm-certs Secret with, when it is a file (not an https URL, which
// kubeadm fetches), and none when an InitConfiguration overrides the
// JoinConfiguration; its discovery fields are known, not warned about.
func TestDiscoveryKubeconfigOfFile(t *testing.T) {
	cluster := clusterDoc("v1beta4", "controlPlaneEndpoint: cp.example.com:6443")
	fileJoin := func(path string) string {
		return "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  file:\n    kubeConfigPath: " + path +
			"\n  tlsBootstrapToken: abcdef.0123456789abcdef\nnodeRegistration:\n  name: cp-2\n" + joinControlPlaneBody + "---\n" + cluster
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"file", fileJoin("/root/bootstrap.conf"), "/root/bootstrap.conf"},
		{"url", fileJoin("https://example.com/bootstrap.conf"), ""},
		{"token discovery", joinDoc("v1beta4", joinControlPlaneBody) + "---\n" + cluster, ""},
		{"init beside join", fileJoin("/root/bootstrap.conf") + "\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.in), Default())
			if err != nil {
				t.Fatal(err)
			}
			if f.DiscoveryKubeconfig != tc.want {
				t.Errorf("DiscoveryKubeconfig %q, want %q", f.DiscoveryKubeconfig, tc.want)
			}
			for _, w := range f.Warnings {
				if strings.Contains(w, "discovery") {
					t.Errorf("warning about discovery: %s", w)
				}
			}
		})
	}
}
