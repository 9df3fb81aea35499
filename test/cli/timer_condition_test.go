package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTimerRunsOnControlPlaneNodesOnly: the service's conditions, as
// systemd evaluates them (systemd-analyze condition), run it on a
// control-plane node and on an etcd-only node (kubeadm's external etcd
// cluster), and skip it on a worker. A worker has the cluster's ca.crt
// (kubeadm join writes it for the kubelet) and kubelet.conf, and nothing
// renew all renews: a unit that ran there failed every day with "none of
// the 11 certificates ... exists".
func TestTimerRunsOnControlPlaneNodesOnly(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed: the conditions cannot be evaluated by systemd")
	}
	bin := certctlBin(t)
	cp := makeNode(t, bin, "ECDSA-P256")
	copyTo := func(dst string, files ...string) node {
		n := node{dir: dst, certDir: filepath.Join(dst, "pki")}
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(cp.dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, f)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, f), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	worker := copyTo(filepath.Join(t.TempDir(), "worker"), "pki/ca.crt", "kubelet.conf")
	etcdOnly := copyTo(filepath.Join(t.TempDir(), "etcd"), "pki/etcd/ca.crt", "pki/etcd/ca.key", "pki/etcd/server.crt", "pki/etcd/server.key",
		"pki/etcd/peer.crt", "pki/etcd/peer.key", "pki/etcd/healthcheck-client.crt", "pki/etcd/healthcheck-client.key", "pki/apiserver-etcd-client.crt", "pki/apiserver-etcd-client.key")
	for _, tc := range []struct {
		name string
		n    node
		runs bool
	}{
		{"control-plane node", cp, true},
		{"etcd-only node", etcdOnly, true},
		{"worker", worker, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			service := run(t, bin, append([]string{"install-timer", "--dry-run", "--node-name", "cp-1"}, tc.n.flags()...)...)
			var conds []string
			for _, l := range strings.Split(service, "\n") {
				if strings.HasPrefix(l, "Condition") {
					conds = append(conds, l)
				}
			}
			if len(conds) == 0 {
				t.Fatalf("no condition in the service:\n%s", service)
			}
			out, err := exec.Command(sa, append([]string{"condition"}, conds...)...).CombinedOutput()
			if runs := err == nil; runs != tc.runs {
				t.Errorf("the service runs: %v, want %v; conditions %q:\n%s", runs, tc.runs, conds, out)
			}
		})
	}
}
