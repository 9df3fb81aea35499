package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/lock"
)

// TestStoppedRenewalSummary: a renewal stopped by systemd
// (SIGTERM) while it waits for the lock exits 143, which the timer unit
// counts as a success, and its -o json summary says 143 too; stopped by
// Ctrl-C (SIGINT), 130 both. Before, both were 130, a failed unit.
func TestStoppedRenewalSummary(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	lockPath, err := lock.Beside(n.certDir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lock.AcquireWait(t.Context(), lockPath, lock.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	for sig, want := range map[syscall.Signal]int{syscall.SIGTERM: exitcode.Terminated, syscall.SIGINT: exitcode.Interrupted} {
		t.Run(sig.String(), func(t *testing.T) {
			stdout, err := os.Create(filepath.Join(t.TempDir(), "summary.json"))
			if err != nil {
				t.Fatal(err)
			}
			defer stdout.Close()
			c := interruptCase{args: append([]string{"renew", "all", "--lock-timeout", "1h", "-o", "json"}, n.flags()...),
				ready: "holds the lock", stdout: stdout}
			stderr, code := interrupt(t, bin, c, sig)
			if code != want {
				t.Errorf("exit status %d, want %d:\n%s", code, want, stderr)
			}
			data, err := os.ReadFile(stdout.Name())
			if err != nil {
				t.Fatal(err)
			}
			var s struct {
				Status   string `json:"status"`
				ExitCode int    `json:"exitCode"`
			}
			if err := json.Unmarshal(data, &s); err != nil {
				t.Fatalf("summary: %v\n%s", err, data)
			}
			if s.ExitCode != want || s.Status != "error" {
				t.Errorf("summary: status %q, exitCode %d; want error, %d", s.Status, s.ExitCode, want)
			}
		})
	}
}
