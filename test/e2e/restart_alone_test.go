package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/testcluster"
)

// TestRestartAloneWithoutAPIServer: when no API server can be asked for the Lease that
// serialises restarts across nodes, `renew --restart-control-plane` restarts the node's
// components alone, says so and why on one line, and exits 0 once each serves its new
// certificate, as on a single node (issue 16 item 3, docs/ha.md). The node runs etcd and no
// kube-apiserver, as when a cluster's API servers are all down and etcd's certificates must be
// renewed: first its admin.conf names a kube-apiserver that does not answer, then there is no
// admin.conf, $KUBECONFIG, ~/.kube/config or service account at all.
func TestRestartAloneWithoutAPIServer(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd}})
	ctx := testCtx(t, 5*time.Minute)
	// The harness Kubelet runs etcd from its manifest and restarts it when the manifest changes.
	if _, err := c.StartKubelet(ctx); err != nil {
		t.Fatal(err)
	}
	dir := c.ManifestDir()
	home := t.TempDir()

	for _, tc := range []struct {
		name  string
		setup func(t *testing.T)
		say   string
	}{
		{"unreachable", func(*testing.T) {},
			"[restart] This node restarts alone, without waiting for the other control-plane nodes' restarts: the API server cannot be reached, or refuses the Leases of kube-system (Get \"https://" + c.Addr(testcluster.APIServer) + "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?limit=1\": dial tcp " + c.Addr(testcluster.APIServer) + ": connect: connection refused)\n"},
		{"no kubeconfig", func(t *testing.T) {
			if err := os.Remove(c.Kubeconfig("admin.conf")); err != nil {
				t.Fatal(err)
			}
		}, "[restart] This node restarts alone, without waiting for the other control-plane nodes' restarts: no API client ("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup(t)
			pid := c.PID(testcluster.Etcd)
			cmd := exec.CommandContext(ctx, signerCertctl(t), "renew", "etcd-server", "etcd-peer", "--restart-control-plane", "--manifest-dir", dir,
				"--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(), "--restart-timeout", "2m")
			// Nothing else to find an API server by.
			cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			t.Logf("certctl renew etcd-server etcd-peer --restart-control-plane: %v\n%s", err, out.String())
			if err != nil {
				t.Fatalf("renew failed: %v; want exit status 0", err)
			}
			if !strings.Contains(out.String(), tc.say) {
				t.Errorf("the output does not say that the node restarts alone: want %q", tc.say)
			}
			if strings.Contains(out.String(), "took the Lease") || strings.Contains(out.String(), "waiting for the Lease") {
				t.Errorf("the output speaks of taking a Lease, which no API server could hold")
			}
			if c.PID(testcluster.Etcd) == pid {
				t.Errorf("etcd was not restarted (pid %d)", pid)
			}
			for _, e := range []servingEndpoint{
				{c, "etcd client port", c.Addr(testcluster.Etcd), "etcd/server.crt"},
				{c, "etcd peer port", fmt.Sprintf("%s:%d", c.Host(), c.EtcdPeerPort()), "etcd/peer.crt"},
			} {
				if got, want := served(t, e.addr, e.tls(t)), readCert(t, filepath.Join(c.PKIDir(), e.file)); !got.Equal(want) {
					t.Errorf("etcd's %s serves serial %X, not its new %s (serial %X)", e.name, got.SerialNumber, e.file, want.SerialNumber)
				}
			}
		})
	}
}
