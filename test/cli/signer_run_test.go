package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

// TestSignerEnableSymlinkedManifest: kube-controller-manager's manifest is
// a symbolic link (configuration management keeps the file elsewhere and
// links it into the kubelet's folder). signer enable and disable, and their
// --dry-run, exit non-zero with one line naming the link, its target and
// what to do, and write nothing: the link stays a link, the file it points
// to is unchanged, no backup folder appears. Before, the new manifest was
// renamed over the link: the link became a file and the linked file, the
// one its owner edits, stayed old.
func TestSignerEnableSymlinkedManifest(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	root := filepath.Dir(n.dir)
	real := filepath.Join(root, "config-management")
	manifestDir := filepath.Join(n.dir, "manifests")
	for _, d := range []string{real, manifestDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ verb, fixture string }{
		{"enable", "kubeadm-external-ca.yaml"}, {"disable", "kubeadm.yaml"},
	} {
		data, err := os.ReadFile(filepath.Join("..", "..", "manifests", "testdata", c.fixture))
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(real, "kube-controller-manager.yaml")
		if err := os.WriteFile(target, data, 0o600); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(manifestDir, "kube-controller-manager.yaml")
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		before, realBefore := treetest.Snapshot(t, n.dir), treetest.Snapshot(t, real)
		for _, dry := range []bool{true, false} {
			args := []string{"signer", c.verb, "--manifest", link}
			if c.verb == "enable" {
				args = append(args, "--cert-dir", n.certDir)
			}
			if dry {
				args = append(args, "--dry-run")
			}
			code, stdout, stderr := runAll(t, nil, bin, args...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code == 0 || len(lines) != 1 || !strings.Contains(stderr, link) || !strings.Contains(stderr, "symbolic link to "+target) {
				t.Errorf("certctl %s: exit %d, stderr %q; want non-zero and one line naming the link %s and its target", strings.Join(args, " "), code, stderr, link)
			}
			if strings.Contains(stdout, "+++") {
				t.Errorf("certctl %s printed a diff it cannot apply:\n%s", strings.Join(args, " "), stdout)
			}
			if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("certctl %s replaced the link %s by a file", strings.Join(args, " "), link)
			}
			after := treetest.Snapshot(t, n.dir)
			lock := filepath.Join(n.dir, ".certctl.lock") // certctl's lock, beside the manifest folder
			delete(before, lock)
			delete(after, lock)
			treetest.AssertSame(t, before, after)
			treetest.AssertSame(t, realBefore, treetest.Snapshot(t, real))
			if _, err := os.Stat(filepath.Join(n.dir, "tmp")); !os.IsNotExist(err) {
				t.Errorf("certctl %s made a backup folder (%v)", strings.Join(args, " "), err)
			}
		}
	}
}

// TestSignerRunSaysAPIServerDown: signer run whose API server refuses
// connections (a wrong --kubeconfig, the API server down) says so on
// stderr, with what to do, within seconds, and goes on trying (a daemon:
// SIGTERM still ends it with status 0). Before, it printed "Signing for
// ..." and then nothing at all while it signed nothing: client-go's
// informer retries an API server that does not answer without a word.
func TestSignerRunSaysAPIServerDown(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	down := hungKubeconfig(t, n, "127.0.0.1:1") // nothing listens on port 1
	var stdout, stderr syncBuffer
	cmd := exec.Command(bin, "signer", "run", "--kubeconfig", down, "--cert-dir", n.certDir, "--listen-address", "127.0.0.1:0",
		"--control-plane-node", "cp-1=198.51.100.10")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(40 * time.Second)
	for !strings.Contains(stderr.String(), "cannot list the CSRs") {
		select {
		case err := <-exited:
			t.Fatalf("signer run ended: %v\n%s%s", err, stdout.String(), stderr.String())
		case <-deadline:
			_ = cmd.Process.Kill()
			<-exited
			t.Fatalf("signer run with its API server down said nothing about it in 40s:\n%s%s", stdout.String(), stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("signer run after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("signer run did not end within 5s of SIGTERM")
	}
	out := stderr.String()
	if !strings.Contains(out, "connection refused") || !strings.Contains(out, "is the API server up and reachable") || !strings.Contains(out, "Check the server of kubeconfig ") {
		t.Errorf("signer run with its API server down: stderr\n%s\nwant the error and what to do", out)
	}
}
