package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/certctl/certctl/internal/exitcode"
)

// TestPanicExitsFailure: a command that panics ends with exit status 1
// and one line saying it is a bug, not Go's status 2, which renew's timer
// counts as success and monitoring reads as "expires soon".
func TestPanicExitsFailure(t *testing.T) {
	root := &cobra.Command{Use: "certctl", SilenceUsage: true, RunE: func(*cobra.Command, []string) error { panic("boom") }}
	root.SetArgs(nil)
	var errOut bytes.Buffer
	if code := run(root, &errOut); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if first, _, _ := strings.Cut(errOut.String(), "\n"); !strings.HasPrefix(first, "error: internal error: boom: this is a bug of certctl") {
		t.Errorf("first line %q, want the internal error", first)
	}
}

// TestGoroutinePanicExitsFailure: a panic in another goroutine that ends
// with utilruntime.HandleCrash (client-go's, the signer's workers, the
// fsyncs of a renewal) exits 1 too, through main's handler.
func TestGoroutinePanicExitsFailure(t *testing.T) {
	if os.Getenv("CERTCTL_TEST_GOROUTINE_PANIC") == "1" {
		root := &cobra.Command{Use: "certctl", RunE: func(*cobra.Command, []string) error {
			go func() {
				defer utilruntime.HandleCrash()
				panic("boom")
			}()
			select {}
		}}
		root.SetArgs(nil)
		exitcode.OnGoroutinePanic(os.Stderr, os.Exit)
		os.Exit(run(root, os.Stderr))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGoroutinePanicExitsFailure$")
	cmd.Env = append(os.Environ(), "CERTCTL_TEST_GOROUTINE_PANIC=1")
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1\n%s", err, errOut.String())
	}
	if first, _, _ := strings.Cut(errOut.String(), "\n"); !strings.HasPrefix(first, "error: internal error: boom: this is a bug of certctl") {
		t.Errorf("first line %q, want the internal error", first)
	}
}
