package phases

import (
	"strings"
	"testing"
)

// TestJoiningNodeMissingCA: on a node that joins, a certificate or
// kubeconfig phase whose CA is missing says to download the cluster's CA,
// not to run `init-phase certs CA`, which refuses to make one there.
func TestJoiningNodeMissingCA(t *testing.T) {
	for _, tc := range []struct{ group, name string }{
		{"certs", "apiserver"},
		{"certs", "etcd-server"},
		{"kubeconfig", "admin"},
	} {
		t.Run(tc.group+"/"+tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.Cluster.Joining = true
			err := e.run(t, tc.group, tc.name)
			if err == nil || !strings.Contains(err.Error(), "certctl certs download") || strings.Contains(err.Error(), "init-phase certs") {
				t.Errorf("error %v, want one saying to run `certctl certs download`, not init-phase", err)
			}
		})
	}
}
