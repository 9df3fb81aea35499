package config_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestFromCertificatesClusterNameAndCAValidity: the settings derived from
// a node's files (`certctl config view` without a ConfigMap or --config)
// keep what the files record: clusterName, the cluster name kubeadm gives
// the kubeconfig files, and caCertificateValidityPeriod, ca.crt's own
// period; not kubeadm's defaults.
func TestFromCertificatesClusterNameAndCAValidity(t *testing.T) {
	n := pkitest.NewNode(t, func(c *config.Cluster) {
		c.ClusterName = "prod-eu"
		c.CACertificateValidity = 5 * 365 * 24 * time.Hour
	})
	got, ok := config.FromCertificates(n.CertDir(), n.Dir, config.Default())
	if !ok {
		t.Fatal("FromCertificates found nothing")
	}
	if got.ClusterName != "prod-eu" {
		t.Errorf("clusterName %q, want prod-eu (the kubeconfig files' cluster)", got.ClusterName)
	}
	if got.CACertificateValidity != 5*365*24*time.Hour {
		t.Errorf("caCertificateValidityPeriod %v, want %v (ca.crt's)", got.CACertificateValidity, 5*365*24*time.Hour)
	}

	// A joined node's kubelet.conf names its cluster default-cluster (the
	// kubelet's TLS bootstrap): it does not say the cluster's name.
	for _, name := range []string{pki.AdminKubeconfig, pki.SuperAdminKubeconfig, "controller-manager.conf", "scheduler.conf"} {
		os.Remove(n.Path(name))
	}
	cfg, err := kubeconfig.Load(n.Path("kubelet.conf"))
	if err != nil {
		t.Fatal(err)
	}
	cl := cfg.Clusters["prod-eu"]
	delete(cfg.Clusters, "prod-eu")
	cfg.Clusters["default-cluster"] = cl
	cfg.Contexts[cfg.CurrentContext].Cluster = "default-cluster"
	if err := kubeconfig.Write(n.Path("kubelet.conf"), cfg); err != nil {
		t.Fatal(err)
	}
	if got, _ := config.FromCertificates(n.CertDir(), n.Dir, config.Default()); got.ClusterName != config.DefaultClusterName {
		t.Errorf("clusterName %q from kubelet.conf alone, want kubeadm's default", got.ClusterName)
	}
}

// TestMarshalSaysWhatCertificatesDoNotRecord: settings derived from the
// certificates say, in the file `config view` prints, that the service
// subnet's size and a dual-stack second range are not recorded there: the
// apiserver certificate holds only the first range's VIP.
func TestMarshalSaysWhatCertificatesDoNotRecord(t *testing.T) {
	n := pkitest.NewNode(t, func(c *config.Cluster) { c.ServiceSubnet = "10.96.0.0/16,fd00::/108" })
	got, _ := config.FromCertificates(n.CertDir(), n.Dir, config.Default())
	data, err := config.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(string(data), "apiVersion:")
	for _, want := range []string{"serviceSubnet", "dual-stack"} {
		if !strings.Contains(header, want) {
			t.Errorf("the comment does not mention %q:\n%s", want, data)
		}
	}
}
