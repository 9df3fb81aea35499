package cli

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/treetest"
)

// TestLockHolderIsTheRealOne: when the lock file's last record is from a
// certctl that has finished and another program holds the lock (flock(1),
// or a process that writes no record), a writing command that gives up
// names the process that holds the lock, never the recorded PID, which
// an SRE might kill; it writes nothing.
func TestLockHolderIsTheRealOne(t *testing.T) {
	bin := certctlBin(t)
	for _, holder := range []string{"flock(1)", "this test"} {
		t.Run(holder, func(t *testing.T) {
			n := makeNode(t, bin, "ECDSA-P256")
			path := filepath.Join(n.dir, lock.FileName)
			done := exec.Command("true")
			if err := done.Run(); err != nil {
				t.Fatal(err)
			}
			stale := done.Process.Pid
			record := fmt.Sprintf("%d\n%s init-phase kubeconfig all\n%s\n", stale, bin, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
			if err := os.WriteFile(path, []byte(record), 0o600); err != nil {
				t.Fatal(err)
			}
			var pid int
			if holder == "flock(1)" {
				pid = holdWithFlock(t, path)
			} else {
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
					t.Fatal(err)
				}
				pid = os.Getpid()
			}
			before := treetest.Snapshot(t, n.dir)
			r := runBounded(t, bin, append([]string{"renew", "all", "--lock-timeout", "200ms"}, n.flags()...)...)
			if r.code != 1 || strings.Contains(r.errOut, fmt.Sprintf("pid %d", stale)) || strings.Contains(r.errOut, "another certctl") ||
				!strings.Contains(r.errOut, fmt.Sprintf("another process (pid %d, ", pid)) {
				t.Errorf("renew all: exit %d, stderr %q; want 1 naming pid %d, not the finished certctl (pid %d)", r.code, r.errOut, pid, stale)
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.dir))
		})
	}
}

// holdWithFlock holds the lock file at path with flock(1), which writes no
// record, until the test ends; it returns flock's PID.
func holdWithFlock(t *testing.T, path string) int {
	t.Helper()
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("no flock(1) to hold the lock as another program would")
	}
	cmd := exec.Command("flock", path, "sh", "-c", "echo locked; exec sleep 60")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("flock did not lock: %q %v", line, err)
	}
	return cmd.Process.Pid
}
