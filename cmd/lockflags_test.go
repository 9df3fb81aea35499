package cmd

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/lock"
)

// TestDryRunIgnoresLockTimeout: every command with --lock-timeout has
// --dry-run, which takes no lock and accepts --lock-timeout all the same,
// ignoring it, as it accepts the other flags of the run it tries; the
// flag's help says so, where it said only how long the wait is (signer
// enable and disable, renew and ca rotate alike). While another certctl
// holds the lock, their dry runs with --lock-timeout 0 run at once.
func TestDryRunIgnoresLockTimeout(t *testing.T) {
	found := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if f := c.Flags().Lookup("lock-timeout"); f != nil {
			found++
			if c.Flags().Lookup("dry-run") == nil {
				t.Errorf("%s has --lock-timeout but no --dry-run", c.CommandPath())
			}
			if want := "--dry-run takes no lock and ignores it"; !strings.Contains(f.Usage, want) {
				t.Errorf("%s --lock-timeout: help %q does not say %q", c.CommandPath(), f.Usage, want)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCommand(io.Discard, io.Discard))
	if found < 9 {
		t.Errorf("%d commands with --lock-timeout, want renew, restore, ca rotate, signer enable and disable, ... (9 or more)", found)
	}

	n, flags := renewNode(t)
	manifests := filepath.Join(n.Dir, "manifests")
	data, err := os.ReadFile(filepath.Join("..", "manifests", "staticpods", "testdata", "kubeadm", "kube-controller-manager.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(manifests, 0o700); err != nil {
		t.Fatal(err)
	}
	kcm := filepath.Join(manifests, "kube-controller-manager.yaml")
	if err := os.WriteFile(kcm, data, 0o600); err != nil {
		t.Fatal(err)
	}
	path, err := lock.Beside(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := lock.AcquireWait(context.Background(), path, lock.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	for _, args := range [][]string{
		append([]string{"renew", "all"}, flags...),
		append([]string{"ca", "rotate", "ca", "--node-only", "--manifest-dir", manifests}, flags...),
		{"signer", "enable", "--cert-dir", n.CertDir(), "--manifest", kcm},
		{"signer", "disable", "--manifest", kcm},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			_, stderr, err := execute(t, append(args, "--dry-run", "--lock-timeout", "0")...)
			if err != nil || strings.Contains(stderr, lock.FileName) {
				t.Errorf("with the lock held: %v\n%s", err, stderr)
			}
		})
	}
}
