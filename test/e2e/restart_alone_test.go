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
			"[restart] This node restarts alone, without waiting for the other control-plane nodes' restarts: the API server cannot be reached (Get \"https://" + c.Addr(testcluster.APIServer) + "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?limit=1\": dial tcp " + c.Addr(testcluster.APIServer) + ": connect: connection refused)\n"},
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

// TestRestartRefusedLeases: an API server that answers but refuses the Leases to the
// credentials certctl uses (403: the user has no RBAC on leases) does not make the node restart
// alone: other nodes may be restarting under their Leases, and a restart without one could take
// a second etcd member down. The restart fails with what to do, etcd keeps running, nothing is
// restarted, and the restart stays owed: the next run, with admin.conf's credentials, does it.
func TestRestartRefusedLeases(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 5*time.Minute)
	if _, err := c.StartKubelet(ctx); err != nil {
		t.Fatal(err)
	}
	nobody := userKubeconfig(t, c, "e2e-no-leases")
	admin, err := os.ReadFile(c.Kubeconfig("admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	noLeases, err := os.ReadFile(nobody)
	if err != nil {
		t.Fatal(err)
	}
	renew := func(t *testing.T) (string, error) {
		cmd := exec.CommandContext(ctx, signerCertctl(t), "renew", "etcd-server", "--restart-control-plane", "--manifest-dir", c.ManifestDir(),
			"--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(), "--restart-timeout", "2m")
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		t.Logf("certctl renew etcd-server --restart-control-plane: %v\n%s", err, out.String())
		return out.String(), err
	}
	// admin.conf is the user without RBAC on leases for the first run.
	if err := os.WriteFile(c.Kubeconfig("admin.conf"), noLeases, 0o600); err != nil {
		t.Fatal(err)
	}
	pid := c.PID(testcluster.Etcd)
	out, err := renew(t)
	if err == nil {
		t.Fatal("renew exited 0; want a failure: the restart was not made")
	}
	for _, want := range []string{"refuses the Leases of kube-system", "to the user of kubeconfig " + c.Kubeconfig("admin.conf"), "forbidden", "the restart stays owed"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q", want)
		}
	}
	if strings.Contains(out, "restarts alone") {
		t.Errorf("the node restarted alone while the API server answered")
	}
	if c.PID(testcluster.Etcd) != pid {
		t.Errorf("etcd was restarted (pid %d, was %d) without the Lease", c.PID(testcluster.Etcd), pid)
	}
	// With admin.conf's credentials back, the owed restart is made by the next run.
	if err := os.WriteFile(c.Kubeconfig("admin.conf"), admin, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err = renew(t); err != nil {
		t.Fatalf("the next run: %v", err)
	}
	if !strings.Contains(out, "took the Lease kube-system/certctl-restart-etcd") || c.PID(testcluster.Etcd) == pid {
		t.Errorf("the next run did not restart etcd under its Lease (pid %d)", c.PID(testcluster.Etcd))
	}
	e := servingEndpoint{c, "etcd client port", c.Addr(testcluster.Etcd), "etcd/server.crt"}
	if got, want := served(t, e.addr, e.tls(t)), readCert(t, filepath.Join(c.PKIDir(), e.file)); !got.Equal(want) {
		t.Errorf("etcd serves serial %X, not its new etcd/server.crt (serial %X)", got.SerialNumber, want.SerialNumber)
	}
}
