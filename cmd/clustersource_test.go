package cmd

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/expiration"
)

// kubeadmConfigMap is the kubeadm-config ConfigMap of a cluster whose
// certificates are valid for 480h, with a SAN the test node lacks when
// extra is set.
func kubeadmConfigMap(extra string) *corev1.ConfigMap {
	cc := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.37.1\ncertificateValidityPeriod: 480h0m0s\n"
	if extra != "" {
		cc += "apiServer:\n  certSANs: [" + extra + "]\n"
	}
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kubeadm-config"},
		Data: map[string]string{"ClusterConfiguration": cc}}
}

// TestClusterFlagsSource: without --config the settings come from the
// kubeadm-config ConfigMap when the API server answers (the node's name
// and address from its certificates), else from the certificates, else
// from the host; each load says which on one line, and the ConfigMap's
// settings report no SAN drift on a healthy node but a real one.
func TestClusterFlagsSource(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	empty := t.TempDir()
	unreachable := func(string) (config.ConfigMapGetter, string, error) {
		return nil, "", errors.New("dial tcp 192.0.2.1:6443: i/o timeout")
	}
	cluster := func(objs ...*corev1.ConfigMap) func(string) (config.ConfigMapGetter, string, error) {
		return func(dir string) (config.ConfigMapGetter, string, error) {
			cs := fake.NewClientset()
			for _, o := range objs {
				cs.Tracker().Add(o)
			}
			return cs.CoreV1().ConfigMaps("kube-system"), dir + "/admin.conf", nil
		}
	}
	for _, tc := range []struct {
		name     string
		certDir  string
		connect  func(string) (config.ConfigMapGetter, string, error)
		source   config.Source
		line     string
		validity time.Duration
		keep     bool
		drift    bool
	}{
		{"ConfigMap", n.CertDir(), cluster(kubeadmConfigMap("")), config.SourceConfigMap,
			"[config] using the ClusterConfiguration of ConfigMap kube-system/kubeadm-config (read with " + n.Dir + "/admin.conf)", 480 * time.Hour, false, false},
		{"ConfigMap with a SAN the node lacks", n.CertDir(), cluster(kubeadmConfigMap("api.example.com")), config.SourceConfigMap,
			"[config] using the ClusterConfiguration of ConfigMap", 480 * time.Hour, false, true},
		{"no ConfigMap", n.CertDir(), cluster(), config.SourceCertificates,
			"[config] using the settings derived from the certificates in " + n.CertDir() + " (ConfigMap kube-system/kubeadm-config not read: ConfigMap kube-system/kubeadm-config does not exist", config.DefaultCertificateValidity, true, false},
		{"unreachable", n.CertDir(), unreachable, config.SourceCertificates,
			"[config] using the settings derived from the certificates in " + n.CertDir() + " (ConfigMap kube-system/kubeadm-config not read: dial tcp", config.DefaultCertificateValidity, true, false},
		{"nothing", empty, unreachable, config.SourceHost,
			"[config] using kubeadm's defaults with this host's name and address: " + empty + " has no apiserver or etcd certificate", config.DefaultCertificateValidity, false, false},
		// Said once: the reason the ConfigMap was not read says it already.
		{"nothing, no ConfigMap", empty, cluster(), config.SourceHost,
			"[config] using kubeadm's defaults with this host's name and address: " + empty + " has no apiserver or etcd certificate and ConfigMap kube-system/kubeadm-config not read: ConfigMap kube-system/kubeadm-config does not exist (not a kubeadm cluster, or kubeadm's upload-config phase was skipped): pass --config\n", config.DefaultCertificateValidity, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := clusterFlags{connect: tc.connect, kubeconfigDir: &n.Dir}
			cmd := &cobra.Command{Use: "test"}
			f.addTo(cmd.Flags())
			if err := cmd.ParseFlags([]string{"--cert-dir", tc.certDir}); err != nil {
				t.Fatal(err)
			}
			var warn bytes.Buffer
			c, err := f.fileAndFlags(cmd, &warn)
			if err != nil {
				t.Fatal(err)
			}
			if f.source != tc.source || !strings.HasPrefix(warn.String(), tc.line) || strings.Count(warn.String(), "\n") != 1 {
				t.Errorf("source %d, said %q; want %d, %q", f.source, warn.String(), tc.source, tc.line)
			}
			if c.CertificateValidity != tc.validity || c.KeepValidity != tc.keep {
				t.Errorf("validity %v (keep %v), want %v (keep %v)", c.CertificateValidity, c.KeepValidity, tc.validity, tc.keep)
			}
			if tc.source == config.SourceHost {
				return
			}
			if c.NodeName != "cp-1" || c.AdvertiseAddress != "198.51.100.10" {
				t.Errorf("node %q at %q, want cp-1 at 198.51.100.10 from the certificates", c.NodeName, c.AdvertiseAddress)
			}
			info, err := expiration.Check(expiration.Options{CertDir: c.CertificatesDir, KubeconfigDir: n.Dir, Cluster: &c, Now: pkitest.Made})
			if err != nil {
				t.Fatal(err)
			}
			var drift []string
			for _, p := range info.Problems() {
				if strings.Contains(p, "SANs differ") {
					drift = append(drift, p)
				}
			}
			if tc.drift != (len(drift) == 1 && strings.Contains(drift[0], "missing api.example.com")) || !tc.drift && len(drift) > 0 {
				t.Errorf("SAN drift %q, want it: %v", drift, tc.drift)
			}
		})
	}
}
