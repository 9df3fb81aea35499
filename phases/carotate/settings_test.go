package carotate

import (
	"testing"
	"time"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

func TestWithSettings(t *testing.T) {
	c := &config.Cluster{CertificatesDir: "/srv/pki", ExternalEtcd: true, EncryptionAlgorithm: "ECDSA-P256", NodeName: "cp-2",
		CertificateValidity: 48 * time.Hour, CACertificateValidity: 96 * time.Hour, KeepValidity: true}
	for _, tc := range []struct {
		name          string
		o             Options
		algorithmSet  bool
		wantAlgorithm pki.KeyAlgorithm
		wantLeases    bool
	}{
		{name: "algorithm of the old key, node alone", o: Options{}},
		{name: "algorithm given", o: Options{}, algorithmSet: true, wantAlgorithm: "ECDSA-P256"},
		{name: "restarts take Leases", o: Options{Restart: true, KubeconfigDir: "/srv/k8s", Cluster: &ClusterOptions{CertificateKey: "k"}}, wantLeases: true},
		// --node-only: one node, or the API server down, where the
		// Leases guard nothing (TestNodeAloneRestartsWithoutLeases).
		{name: "node alone restarts without Leases", o: Options{Restart: true, KubeconfigDir: "/srv/k8s"}},
		{name: "cluster record", o: Options{Cluster: &ClusterOptions{CertificateKey: "k"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.o.WithSettings(c, tc.algorithmSet, "/root/admin.conf", "prod")
			if got.CertDir != "/srv/pki" || !got.ExternalEtcd || got.Validity != 48*time.Hour || got.CAValidity != 96*time.Hour || !got.KeepValidity {
				t.Errorf("folders and validities not from the settings: %+v", got)
			}
			if got.KeyAlgorithm != tc.wantAlgorithm {
				t.Errorf("KeyAlgorithm = %q, want %q", got.KeyAlgorithm, tc.wantAlgorithm)
			}
			switch {
			case tc.wantLeases && (got.Coordination == nil || got.Coordination.NodeName != "cp-2" || got.Coordination.Kubeconfig != "/root/admin.conf" || got.Coordination.Context != "prod" || got.Coordination.KubeconfigDir != "/srv/k8s"):
				t.Errorf("Coordination = %+v, want cp-2's with /root/admin.conf, context prod and /srv/k8s", got.Coordination)
			case !tc.wantLeases && got.Coordination != nil:
				t.Errorf("Coordination = %+v without Restart, or for the node alone", got.Coordination)
			}
			if tc.o.Cluster != nil {
				if got.Cluster.NodeName != "cp-2" || got.Cluster.CertificateKey != "k" {
					t.Errorf("Cluster = %+v, want cp-2's with its key", got.Cluster)
				}
				if tc.o.Cluster.NodeName != "" {
					t.Errorf("the caller's ClusterOptions changed: %+v", tc.o.Cluster)
				}
			} else if got.Cluster != nil {
				t.Errorf("Cluster = %+v for the node alone", got.Cluster)
			}
		})
	}
}
