package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/internal/treetest"
)

// TestUseAPIInterrupted: `renew --use-api` waiting for its CSRs to be
// approved (no kube-controller-manager, nobody approves) ends within a
// second of SIGTERM, and of SIGINT, with exit status 143 and 130 and a last line
// that says it was interrupted and that nothing was changed; the node's
// certificates and kubeconfigs are byte-identical (the pending keys, kept
// so that the next run picks up the same CSRs, aside).
func TestUseAPIInterrupted(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 3*time.Minute)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			before := nodeFiles(t, c)
			r := startRenew(t, ctx, c, "apiserver", "--use-api")
			select {
			case <-r.waiting:
			case <-r.done:
				r.wait(t)
				t.Fatal("certctl ended before it waited for its CSR")
			case <-ctx.Done():
				t.Fatal(ctx.Err())
			}
			sent := time.Now()
			if err := r.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-r.done:
			case <-time.After(time.Second):
				r.cmd.Process.Kill()
				r.wait(t)
				t.Fatalf("certctl did not end within 1s of %v", sig)
			}
			t.Logf("ended %v after %v", sig, time.Since(sent).Round(time.Millisecond))
			out, code := r.wait(t)
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			last := lines[len(lines)-1]
			if code != exitcode.OfSignal(sig) || !strings.HasPrefix(last, "error: interrupted") || !strings.Contains(last, "nothing was changed") {
				t.Errorf("exit status %d, last line %q; want %d and an interrupted, nothing changed error", code, last, exitcode.OfSignal(sig))
			}
			treetest.AssertSame(t, before, nodeFiles(t, c))
		})
	}
}
