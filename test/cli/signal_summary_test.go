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
// Ctrl-C (SIGINT), 130 both. Before, both were 130, a failed unit. The
// same for certs import, whose summary said 130 after a SIGTERM while the
// process exited 143.
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
	commands := []struct {
		name string
		args []string
	}{
		{"renew", []string{"renew", "all"}},
		{"import", []string{"certs", "import", "--csr-dir", t.TempDir()}},
	}
	for _, cmd := range commands {
		for sig, want := range map[syscall.Signal]int{syscall.SIGTERM: exitcode.Terminated, syscall.SIGINT: exitcode.Interrupted} {
			t.Run(cmd.name+"/"+sig.String(), func(t *testing.T) {
				stdout, err := os.Create(filepath.Join(t.TempDir(), "summary.json"))
				if err != nil {
					t.Fatal(err)
				}
				defer stdout.Close()
				args := append(append([]string{}, cmd.args...), "--lock-timeout", "1h", "-o", "json")
				c := interruptCase{args: append(args, n.flags()...), ready: "holds the lock", stdout: stdout}
				stderr, code := interrupt(t, bin, c, sig)
				if code != want {
					t.Errorf("exit status %d, want %d:\n%s", code, want, stderr)
				}
				data, err := os.ReadFile(stdout.Name())
				if err != nil {
					t.Fatal(err)
				}
				var s struct {
					Status   string `json:"status"` // renew's
					ExitCode int    `json:"exitCode"`
					Error    string `json:"error"`
				}
				if err := json.Unmarshal(data, &s); err != nil {
					t.Fatalf("summary: %v\n%s", err, data)
				}
				if s.ExitCode != want || s.Error == "" || cmd.name == "renew" && s.Status != "error" {
					t.Errorf("summary: status %q, exitCode %d, error %q; want an error with %d", s.Status, s.ExitCode, s.Error, want)
				}
			})
		}
	}
}
