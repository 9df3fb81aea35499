package config_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
)

// TestFromCertificates: the settings derived from a node's files are the
// ones it was made with, for the fields that decide its certificates, and
// the certificates' profiles under them are the certificates themselves.
func TestFromCertificates(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *config.Cluster)
	}{
		{"defaults", nil},
		{"everything", func(c *config.Cluster) {
			c.NodeName, c.AdvertiseAddress, c.BindPort = "cp-7.example.com", "192.0.2.77", 8443
			c.ServiceSubnet, c.DNSDomain = "10.100.0.0/16", "corp.local"
			c.ControlPlaneEndpoint = "cp.example.com:443"
			c.APIServerCertSANs = []string{"api.example.com", "203.0.113.7"}
			c.EtcdServerCertSANs = []string{"etcd.example.com"}
			c.EtcdPeerCertSANs = []string{"192.0.2.9"}
			c.CertificateValidity = 480 * time.Hour
		}},
		{"ip endpoint", func(c *config.Cluster) { c.ControlPlaneEndpoint = "192.0.2.100:6443" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, tc.change)
			want := *n.Cluster
			base := config.Default()
			got, ok := config.FromCertificates(n.CertDir(), n.Dir, base)
			if !ok {
				t.Fatal("FromCertificates found nothing")
			}
			if !got.KeepValidity || got.CertificateValidity != want.CertificateValidity {
				t.Errorf("validity %v keep=%v, want %v kept", got.CertificateValidity, got.KeepValidity, want.CertificateValidity)
			}
			got.KeepValidity = false
			if want.ServiceSubnet == "10.100.0.0/16" {
				// The certificates hold the VIP, not the subnet: the widest
				// subnet with that first address is as good for them.
				if got.ServiceSubnet != "10.100.0.0/12" && !strings.HasPrefix(got.ServiceSubnet, "10.100.0.0/") {
					t.Errorf("service subnet %s", got.ServiceSubnet)
				}
				got.ServiceSubnet = want.ServiceSubnet
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("derived\n got  %+v\n want %+v", got, want)
			}
		})
	}
}

// TestFromCertificatesEmpty: a folder without the node's certificates
// derives nothing, so that the caller falls back to the host's name.
func TestFromCertificatesEmpty(t *testing.T) {
	dir := t.TempDir()
	if c, ok := config.FromCertificates(dir, dir, config.Default()); ok || !reflect.DeepEqual(c, config.Default()) {
		t.Errorf("FromCertificates(empty) = %+v, %v", c, ok)
	}
}

const clusterConfiguration = `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
certificatesDir: /etc/kubernetes/pki
certificateValidityPeriod: 480h0m0s
networking:
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
apiServer:
  certSANs: [api.example.com]
etcd:
  external:
    endpoints: [https://etcd-0.example.com:2379]
    caFile: /etc/etcd/ca.crt
    certFile: /etc/etcd/client.crt
    keyFile: /etc/etcd/client.key
`

// TestFromConfigMap reads kubeadm's kubeadm-config ConfigMap through a
// client, and names the ConfigMap in each error with what to do.
func TestFromConfigMap(t *testing.T) {
	cm := func(data map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kubeadm-config"}, Data: data}
	}
	ctx := context.Background()
	cs := fake.NewClientset(cm(map[string]string{"ClusterConfiguration": clusterConfiguration}))
	f, err := config.FromConfigMap(ctx, cs.CoreV1().ConfigMaps("kube-system"), config.Default())
	if err != nil {
		t.Fatal(err)
	}
	c := f.Cluster
	want := config.ExternalEtcd{Endpoints: []string{"https://etcd-0.example.com:2379"}, CAFile: "/etc/etcd/ca.crt", CertFile: "/etc/etcd/client.crt", KeyFile: "/etc/etcd/client.key"}
	if c.CertificateValidity != 480*time.Hour || !reflect.DeepEqual(c.APIServerCertSANs, []string{"api.example.com"}) ||
		!c.ExternalEtcd || !reflect.DeepEqual(c.EtcdExternal, want) || c.NodeName != "" {
		t.Errorf("from the ConfigMap: %+v", c)
	}
	for _, tc := range []struct {
		name    string
		objects []*corev1.ConfigMap
		want    []string
	}{
		{"absent", nil, []string{"ConfigMap kube-system/kubeadm-config does not exist", "--config"}},
		{"no key", []*corev1.ConfigMap{cm(map[string]string{"other": "x"})}, []string{"has no ClusterConfiguration key", "--config"}},
		{"bad", []*corev1.ConfigMap{cm(map[string]string{"ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificateValidityPeriod: soon\n"})},
			[]string{"ConfigMap kube-system/kubeadm-config, key ClusterConfiguration", `invalid certificateValidityPeriod "soon"`, "kubectl -n kube-system edit configmap kubeadm-config"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			for _, o := range tc.objects {
				if _, err := cs.CoreV1().ConfigMaps("kube-system").Create(ctx, o, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			_, err := config.FromConfigMap(ctx, cs.CoreV1().ConfigMaps("kube-system"), config.Default())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestMarshalRoundTrip: what `certctl config view` prints, LoadFile reads
// back into the same settings.
func TestMarshalRoundTrip(t *testing.T) {
	local := config.Default()
	local.NodeName, local.AdvertiseAddress = "cp-1", "198.51.100.10"
	local.ControlPlaneEndpoint, local.APIServerCertSANs = "cp.example.com:6443", []string{"api.example.com", "203.0.113.7"}
	local.EtcdServerCertSANs, local.EtcdPeerCertSANs = []string{"etcd.example.com"}, []string{"192.0.2.9"}
	local.CertificateValidity, local.EncryptionAlgorithm = 480*time.Hour, "ECDSA-P256"
	local.SignerNames = map[string]string{"apiserver": "example.com/serving"}
	external := config.Default()
	external.NodeName, external.AdvertiseAddress = "cp-2", "2001:db8::10"
	external.ServiceSubnet = "10.96.0.0/12,fd00::/108"
	external.ExternalEtcd = true
	external.EtcdExternal = config.ExternalEtcd{Endpoints: []string{"https://e:2379"}, CAFile: "/e/ca.crt", CertFile: "/e/c.crt", KeyFile: "/e/c.key"}
	for name, c := range map[string]config.Cluster{"local etcd": local, "external etcd": external} {
		t.Run(name, func(t *testing.T) {
			data, err := config.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "kubeadm.yaml")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := config.LoadFile(path, config.Default())
			if err != nil {
				t.Fatalf("%v\n%s", err, data)
			}
			if len(f.Warnings) > 0 {
				t.Errorf("warnings: %v\n%s", f.Warnings, data)
			}
			if !reflect.DeepEqual(f.Cluster, c) {
				t.Errorf("round trip\n got  %+v\n want %+v\n%s", f.Cluster, c, data)
			}
		})
	}
}
