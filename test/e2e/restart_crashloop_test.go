package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/manifests/staticpods"
)

// TestRestartCrashLoopStaysOwed: a kube-apiserver that exits as it starts (here sa.pub, which it
// reads at start, is garbage, as a botched edit would leave it) crash-loops under the harness
// Kubelet, which starts it again after 10 s, doubling, as the kubelet's CrashLoopBackOff does,
// and reports it to no API (no mirror pod), as certctl cannot ask one while this API server is
// the one down. `renew apiserver --restart-control-plane` waits --restart-timeout for it (a
// first exit proves nothing), fails with exit 1 saying that nothing listens and to look at
// whether it exits as it starts (crictl), not only at the kubelet, and leaves the restart owed.
// With sa.pub put back, the next cron run (`renew all --if-expires-within`, nothing due) retries
// the restart it owes, sees kube-apiserver serve its new certificate, and clears what is owed.
func TestRestartCrashLoopStaysOwed(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 6*time.Minute)
	k, err := c.StartKubelet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Stop()
	sa := filepath.Join(c.PKIDir(), "sa.pub")
	good, err := os.ReadFile(sa)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sa, []byte("not a key\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	certctl := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, signerCertctl(t), append(args, "--restart-control-plane", "--manifest-dir", c.ManifestDir(),
			"--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(), "--restart-timeout", "30s")...)
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		t.Logf("certctl %s: %v\n%s", strings.Join(args, " "), err, out.String())
		return out.String(), err
	}
	out, err := certctl("renew", "apiserver")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("renew: %v; want exit status 1", err)
	}
	if want := "error: kube-apiserver is not reachable on its secure port"; !strings.Contains(out, want) {
		t.Errorf("the output does not say %q", want)
	}
	// Whether a new process was seen on the port before it exited depends on the moment of the
	// checks: either way the error points at its restarts, not at the kubelet alone.
	if !strings.Contains(out, "it keeps exiting: ") && !strings.Contains(out, "and whether kube-apiserver exits as it starts") {
		t.Error("the output does not say that kube-apiserver keeps exiting, or to look whether it does")
	}
	if !strings.Contains(out, "(crictl ps -a --name kube-apiserver shows its restarts; crictl logs CONTAINER)") {
		t.Error("the output does not point at kube-apiserver's restarts and log")
	}
	if strings.Contains(out, "still serves the old certificate") {
		t.Error("the output says that kube-apiserver serves the old certificate, while nothing listens")
	}
	failed := 0
	for _, e := range k.Events() {
		if e.Component == testcluster.APIServer && e.Action == "failed" {
			failed++
		}
	}
	if failed < 2 {
		t.Errorf("the Kubelet failed to start kube-apiserver %d times, want 2 or more (a crash loop): %v", failed, k.Events())
	}
	path, err := staticpods.PendingPath(c.PKIDir())
	if err != nil {
		t.Fatal(err)
	}
	if owed, err := staticpods.LoadPending(path); err != nil || owed.Get(testcluster.APIServer) == nil {
		t.Fatalf("kube-apiserver's restart is not owed (%v)", err)
	}

	// sa.pub put back: the next cron run (nothing due) retries the restart it owes, which the
	// Kubelet's next try (within its backoff) or certctl's own restart makes.
	if err := os.WriteFile(sa, good, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = certctl("renew", "all", "--if-expires-within", "1h")
	if err != nil {
		t.Fatalf("the next run: %v; want exit status 0", err)
	}
	if !strings.Contains(out, "[restart] kube-apiserver: restart owed since ") {
		t.Errorf("the next run does not retry the restart owed")
	}
	if owed, err := staticpods.LoadPending(path); err != nil || owed.Len() != 0 {
		t.Errorf("still owed after the next run: %+v, %v", owed, err)
	}
}
