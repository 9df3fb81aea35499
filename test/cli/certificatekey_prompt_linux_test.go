package cli

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/certctl/certctl/internal/ptytest"
	"github.com/certctl/certctl/phases/copycerts"
)

// TestCertificateKeyPrompt: `certs download --certificate-key -` with a
// terminal on standard input asks for the key on standard error and reads
// it without echo; piped, it asks nothing. Either way it then goes on to
// the API server (here a kubeconfig that does not exist).
func TestCertificateKeyPrompt(t *testing.T) {
	bin := certctlBin(t)
	key := strings.Repeat("ab", 32)
	dir := t.TempDir()
	args := []string{"certs", "download", "--certificate-key", "-", "--cert-dir", filepath.Join(dir, "pki"), "--kubeconfig-dir", dir, "--kubeconfig", filepath.Join(dir, "none.conf")}
	const after = "none.conf" // the error of the step after the key

	t.Run("terminal", func(t *testing.T) {
		ptmx, tty := ptytest.Open(t, 80)
		cmd := exec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := false
		t.Cleanup(func() {
			if !exited { // a failed test: certctl waits for a key
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		})
		for deadline := time.Now().Add(10 * time.Second); echoOn(t, tty); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("certctl did not turn the terminal's echo off to read the key")
			}
		}
		if _, err := ptmx.WriteString(key + "\n"); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		exited = true
		if !strings.HasPrefix(stderr.String(), copycerts.KeyPrompt+"\n") || !strings.Contains(stderr.String(), after) || stdout.Len() > 0 {
			t.Errorf("stdout %q, stderr %q; want the prompt on stderr, then the error of the kubeconfig", stdout.String(), stderr.String())
		}
		if !echoOn(t, tty) {
			t.Error("the terminal's echo is off after certctl exited")
		}
	})
	t.Run("pipe", func(t *testing.T) {
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(key + "\n")
		out, _ := cmd.CombinedOutput()
		if strings.Contains(string(out), copycerts.KeyPrompt) || !strings.Contains(string(out), after) {
			t.Errorf("piped: %q; want no prompt, the error of the kubeconfig", out)
		}
	})
}

// echoOn reports whether the terminal tty echoes what is typed.
func echoOn(t *testing.T, tty interface{ Fd() uintptr }) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}
