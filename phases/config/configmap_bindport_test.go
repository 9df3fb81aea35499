package config_test

import (
	"io"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
)

// TestConfigMapKeepsTheNodesBindPort: the kubeadm-config ConfigMap holds no
// node, so its settings take the node's API endpoint from the node, as
// kubeadm's fetch from the cluster does (the kube-apiserver's endpoint
// annotation): the address from the certificates and the port from
// controller-manager.conf, which kubeadm points at the local endpoint. Not
// kubeadm's default 6443: `init-phase kubeconfig scheduler` would point a
// new scheduler.conf at a port nothing listens on.
func TestConfigMapKeepsTheNodesBindPort(t *testing.T) {
	n := pkitest.NewNode(t, func(c *config.Cluster) { c.BindPort = 8443 })
	cs := fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kubeadm-config"},
		Data:       map[string]string{"ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: " + n.CertDir() + "\n"},
	})
	r := &config.Resolver{
		KubeconfigDir: n.Dir, Warn: io.Discard,
		Connect: func(string) (config.ConfigMapGetter, string, error) {
			return cs.CoreV1().ConfigMaps("kube-system"), "admin.conf", nil
		},
	}
	c, err := r.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != config.SourceConfigMap {
		t.Fatalf("source %v, want the ConfigMap", r.Source)
	}
	if c.BindPort != 8443 || c.AdvertiseAddress != "198.51.100.10" {
		t.Errorf("endpoint %s:%d, want the node's 198.51.100.10:8443", c.AdvertiseAddress, c.BindPort)
	}
	// A flag given still wins.
	r.Override = func(c *config.Cluster) { c.BindPort = 9443 }
	if c, err := r.Load(t.Context()); err != nil || c.BindPort != 9443 {
		t.Errorf("--apiserver-bind-port 9443: %v, %v", c.BindPort, err)
	}
}
