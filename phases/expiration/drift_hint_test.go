package expiration

import (
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestDriftHintFromConfigMap: SANs compared with the kubeadm-config
// ConfigMap (no --config) gave the command `certctl renew etcd-server
// --update-sans --config the configuration`, which fails as printed; renew
// reads the same ConfigMap without --config.
func TestDriftHintFromConfigMap(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cfg := *n.Cluster
	cfg.EtcdServerCertSANs = []string{"etcd.example"}
	info := check(t, n, func(o *Options) { o.Cluster = &cfg })
	ps := info.Problems()
	if len(ps) != 1 {
		t.Fatalf("problems = %q", ps)
	}
	if strings.Contains(ps[0], "--config the configuration") || !strings.Contains(ps[0], "run `certctl renew etcd-server --update-sans`") {
		t.Errorf("drift from the ConfigMap: %q, want the command `certctl renew etcd-server --update-sans`", ps[0])
	}
}
