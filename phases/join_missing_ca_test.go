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

// TestJoiningNodeUseCSRSkipsSA: with --use-csr on a node that joins, the
// line about the skipped sa key pair says to download the cluster's, not
// to run `init-phase certs sa`, which refuses to make one there.
func TestJoiningNodeUseCSRSkipsSA(t *testing.T) {
	e := newTestEnv(t)
	e.Cluster.Joining = true
	e.UseCSR = true
	e.CSRDir = e.dir + "/csr"
	e.mustRun(t, "certs", "sa")
	if out := e.out.String(); !strings.Contains(out, "certctl certs download") || strings.Contains(out, "init-phase certs sa") {
		t.Errorf("output %q: want it to say `certctl certs download`, not init-phase", out)
	}
}
