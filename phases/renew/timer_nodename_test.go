package renew

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
)

// TestTimerNodeNameFromCertificatesFirst: the name the offset is computed
// from is, as docs/cron.md and --node-name's help say, --node-name, else
// the CN of CERT-DIR/etcd/server.crt, else nodeRegistration.name of
// --config, else the host name. It took --config's name before the
// certificates', so that the nodes of a cluster given one copied
// kubeadm.yaml (nodeRegistration.name of the first node) all got the
// same offset, and renewed and restarted their kube-apiservers and etcd
// members in the same minute: what --stagger is there to prevent.
func TestTimerNodeNameFromCertificatesFirst(t *testing.T) {
	n := pkitest.NewNode(t, func(c *config.Cluster) { c.NodeName = "cp-2" })
	cfg := filepath.Join(t.TempDir(), "kubeadm.yaml")
	shared := strings.Join([]string{
		"apiVersion: kubeadm.k8s.io/v1beta4",
		"kind: InitConfiguration",
		"nodeRegistration:",
		"  name: cp-1",
		"---",
		"apiVersion: kubeadm.k8s.io/v1beta4",
		"kind: ClusterConfiguration",
		"certificatesDir: " + n.CertDir(),
		"",
	}, "\n")
	if err := os.WriteFile(cfg, []byte(shared), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		t    Timer
		want string
	}{
		{"--config and its certificatesDir", Timer{ConfigFile: cfg}, "cp-2"},
		{"--config and --cert-dir", Timer{ConfigFile: cfg, CertDir: n.CertDir()}, "cp-2"},
		{"--node-name wins", Timer{ConfigFile: cfg, NodeName: "cp-3"}, "cp-3"},
		{"--config without the certificates", Timer{ConfigFile: cfg, CertDir: t.TempDir()}, "cp-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := tc.t
			if err := tm.Resolve(); err != nil {
				t.Fatal(err)
			}
			if tm.NodeName != tc.want {
				t.Errorf("node name %q, want %q (the CN of etcd/server.crt before nodeRegistration.name)", tm.NodeName, tc.want)
			}
		})
	}
}
