package e2e

import (
	"bytes"
	"crypto/tls"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/manifests/staticpods"
)

// TestRestartNotReadyStaysOwed: `renew apiserver --restart-control-plane` on a node whose
// kube-apiserver comes back from the restart serving its new certificate but never ready (the
// harness Kubelet starts it with --etcd-readycheck-timeout=1ns, so that its etcd readiness check
// always fails, as when etcd does not answer it) waits --restart-timeout under the restart Lease,
// then fails with exit status 1 and one line that names kube-apiserver, /readyz's answer, that
// the restart stays owed, and what to do. The renewed apiserver.crt is installed and matches its
// key, and the restart is owed. Once kube-apiserver can reach etcd again, the next cron run
// (`renew all --if-expires-within`, nothing due) restarts it again, waits until it is ready, and
// clears what is owed.
func TestRestartNotReadyStaysOwed(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 8*time.Minute)
	k, err := c.StartKubelet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Stop()
	pki := c.PKIDir()
	oldCert := readCert(t, filepath.Join(pki, "apiserver.crt"))
	oldPID := c.PID(testcluster.APIServer)
	c.SetStartFlags(testcluster.APIServer, "--etcd-readycheck-timeout=1ns")

	certctl := func(timeout string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, signerCertctl(t), append(args, "--restart-control-plane", "--manifest-dir", c.ManifestDir(),
			"--cert-dir", pki, "--kubeconfig-dir", c.KubeconfigDir(), "--restart-timeout", timeout)...)
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		t.Logf("certctl %s: %v\n%s", strings.Join(args, " "), err, out.String())
		return out.String(), err
	}
	out, err := certctl("30s", "renew", "apiserver")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("renew: %v; want exit status 1", err)
	}
	if strings.Contains(out, "restarts alone") {
		t.Fatal("the run restarted without the Lease, so it did not wait for /readyz: this test needs the Lease")
	}
	newPID := c.PID(testcluster.APIServer)
	if newPID == oldPID || newPID == 0 {
		t.Fatalf("kube-apiserver pid %d, was %d: the Kubelet did not restart it", newPID, oldPID)
	}
	var errLine string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "error: ") {
			errLine = l
		}
	}
	for _, want := range []string{
		"error: kube-apiserver serves its new certificate (pid ",
		"but is not ready after 30",
		"(/readyz: ",
		"the restart stays owed and the next run restarts it again; find out why it is not ready (crictl ps -a --name kube-apiserver; crictl logs CONTAINER)",
	} {
		if !strings.Contains(errLine, want) {
			t.Errorf("the error line %q lacks %q", errLine, want)
		}
	}

	// The renewed pair is installed, and kube-apiserver serves it.
	newCert := readCert(t, filepath.Join(pki, "apiserver.crt"))
	if bytes.Equal(newCert.Raw, oldCert.Raw) {
		t.Error("apiserver.crt is the old one after the run")
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(pki, "apiserver.crt"), filepath.Join(pki, "apiserver.key")); err != nil {
		t.Errorf("apiserver.crt and apiserver.key: %v", err)
	}
	conn, err := tls.Dial("tcp", c.Addr(testcluster.APIServer), clientTLS(t, c, "ca.crt", ""))
	if err != nil {
		t.Fatalf("TLS handshake with kube-apiserver: %v", err)
	}
	if served := conn.ConnectionState().PeerCertificates[0]; !bytes.Equal(served.Raw, newCert.Raw) {
		t.Errorf("kube-apiserver serves serial %x, want the new apiserver.crt's %x", served.SerialNumber, newCert.SerialNumber)
	}
	conn.Close()
	path, err := staticpods.PendingPath(pki)
	if err != nil {
		t.Fatal(err)
	}
	owed, err := staticpods.LoadPending(path)
	if err != nil {
		t.Fatal(err)
	}
	if o := owed.Get(testcluster.APIServer); o == nil || !strings.Contains(o.Reason, "not ready") {
		t.Fatalf("kube-apiserver owed: %+v; want owed, for not being ready", o)
	}

	// kube-apiserver's etcd readiness check is fixed from its next start: the next cron run (nothing
	// due) restarts it again, as the process on the port is a new one that was never ready.
	c.SetStartFlags(testcluster.APIServer)
	out, err = certctl("3m", "renew", "all", "--if-expires-within", "1h")
	if err != nil {
		t.Fatalf("the next run: %v; want exit status 0", err)
	}
	for _, want := range []string{"[restart] kube-apiserver: restart owed since ", "[restart] kube-apiserver: restarted (pid "} {
		if !strings.Contains(out, want) {
			t.Errorf("the next run does not say %q", want)
		}
	}
	if owed, err := staticpods.LoadPending(path); err != nil || owed.Len() != 0 {
		t.Errorf("still owed after the next run: %+v, %v", owed, err)
	}
	if c.PID(testcluster.APIServer) == newPID {
		t.Errorf("kube-apiserver still pid %d, the one that was not ready", newPID)
	}
}
