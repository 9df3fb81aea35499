package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/testcluster"
)

// TestHarnessKubeletRunsManifests: the harness Kubelet runs each component as its static pod
// manifest says. A manifest edit that changes the pod (kube-controller-manager's
// --cluster-signing-cert-file pointed at another file, as CA rotation does) restarts that component
// alone, and the new process runs with the edited flag; an edit that leaves the pod the same (a
// comment) restarts nothing; a malformed manifest is reported and leaves the component running;
// a killed component is started again.
func TestHarnessKubeletRunsManifests(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 5*time.Minute)
	pids := map[string]int{}
	for _, name := range []string{testcluster.Etcd, testcluster.APIServer, testcluster.ControllerManager} {
		pids[name] = c.PID(name)
	}
	k, err := c.StartKubelet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The manifests it wrote run the flags the components run: nothing restarts.
	time.Sleep(5 * testcluster.KubeletPollInterval)
	checkSamePIDs(t, c, pids, "after StartKubelet")

	kcm := c.ManifestPath(testcluster.ControllerManager)
	data, err := os.ReadFile(kcm)
	if err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(kcm, append([]byte("# the same pod\n"), data...), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * testcluster.KubeletPollInterval)
	checkSamePIDs(t, c, pids, "after a comment was added to kube-controller-manager.yaml")

	// Point the signer at a copy of the CA, as rotation points it at a single-certificate file.
	for _, ext := range []string{".crt", ".key"} {
		b, err := os.ReadFile(filepath.Join(c.PKIDir(), "ca"+ext))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.PKIDir(), "signing-ca"+ext), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	oldFlag := "--cluster-signing-cert-file=" + filepath.Join(c.PKIDir(), "ca.crt")
	newFlag := "--cluster-signing-cert-file=" + filepath.Join(c.PKIDir(), "signing-ca.crt")
	if !bytes.Contains(data, []byte(oldFlag)) {
		t.Fatalf("kube-controller-manager.yaml has no %s:\n%s", oldFlag, data)
	}
	if err := atomicfile.WriteFile(kcm, bytes.Replace(data, []byte(oldFlag), []byte(newFlag), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	harnessWaitFor(t, 2*time.Minute, "the Kubelet restarts kube-controller-manager", func() bool { return k.Restarts(testcluster.ControllerManager) == 1 })
	pid := c.PID(testcluster.ControllerManager)
	if pid == pids[testcluster.ControllerManager] || pid == 0 {
		t.Fatalf("kube-controller-manager pid %d after the restart, was %d", pid, pids[testcluster.ControllerManager])
	}
	args := procCmdline(t, pid)
	if !slices.Contains(args, newFlag) || slices.Contains(args, oldFlag) {
		t.Errorf("restarted kube-controller-manager runs %q, want %s and not %s", args, newFlag, oldFlag)
	}
	delete(pids, testcluster.ControllerManager)
	checkSamePIDs(t, c, pids, "after kube-controller-manager.yaml changed")

	// A manifest the kubelet cannot read: reported, and the component keeps running.
	pid = c.PID(testcluster.ControllerManager)
	before := len(k.Events())
	if err := atomicfile.WriteFile(kcm, []byte("apiVersion: v1\nkind: Pod\nspec: {containers: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	harnessWaitFor(t, 10*time.Second, "the Kubelet rejects the malformed manifest", func() bool {
		for _, e := range k.Events()[before:] {
			if e.Action == "rejected" && e.Component == testcluster.ControllerManager && strings.Contains(e.Err.Error(), "keeps running") {
				return true
			}
		}
		return false
	})
	if got := c.PID(testcluster.ControllerManager); got != pid {
		t.Errorf("kube-controller-manager pid %d after a malformed manifest, was %d", got, pid)
	}
	for _, e := range k.Events() {
		if e.Action == "rejected" && e.At.Before(k.Events()[before].At) || e.Action == "failed" || e.Action == "crashed" && e.Component != testcluster.ControllerManager {
			t.Errorf("unexpected Kubelet event: %s", e)
		}
	}

	// A crashed component is started again, with the flags of its last good manifest, although
	// the manifest on disk is still malformed.
	pid = c.PID(testcluster.ControllerManager)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	harnessWaitFor(t, 2*time.Minute, "the Kubelet starts the killed kube-controller-manager again", func() bool {
		return k.Restarts(testcluster.ControllerManager) == 2
	})
	if args := procCmdline(t, c.PID(testcluster.ControllerManager)); !slices.Contains(args, newFlag) {
		t.Errorf("kube-controller-manager started after its crash runs %q, want %s", args, newFlag)
	}

	// certctl's own restart (the restart annotation) goes through the Kubelet, and certctl sees
	// the new kube-apiserver serve the renewed certificate.
	out, err := runCertctl(t, ctx, "renew", "apiserver", "--restart-control-plane", "--manifest-dir", c.ManifestDir(),
		"--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(), "--restart-timeout", "2m")
	if err != nil {
		t.Fatalf("certctl renew apiserver --restart-control-plane: %v\n%s", err, out)
	}
	if n := k.Restarts(testcluster.APIServer); n != 1 {
		t.Errorf("the Kubelet restarted kube-apiserver %d times for certctl's restart, want 1", n)
	}
	t.Logf("Kubelet events: %v", k.Events())
}

func checkSamePIDs(t *testing.T, c *testcluster.Cluster, pids map[string]int, when string) {
	t.Helper()
	for name, pid := range pids {
		if got := c.PID(name); got != pid {
			t.Errorf("%s: %s pid %d, was %d: restarted", when, name, got, pid)
		}
	}
}

// procCmdline returns the command line of process pid, from /proc/PID/cmdline.
func procCmdline(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// harnessWaitFor polls cond every 50 ms until it holds, or fails the test after d.
func harnessWaitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
