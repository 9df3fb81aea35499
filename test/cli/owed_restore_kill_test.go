package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKillRestoreKeepsRestartsOwed SIGKILLs `restore latest
// --restart-control-plane` at random instants around its commit, then lets
// check-expiration recover: apiserver.crt is either the renewed one, with
// no restart owed, or the restored one, with kube-apiserver owed a restart.
// The restore wrote that record only after its commit, so a kill in
// between left kube-apiserver on the certificate the restore had replaced,
// with nothing to say so; it is now a file of the restore's transaction,
// which recovery finishes as a restore (the record is in its scope).
// CERTCTL_KILLS overrides the number of kills.
func TestKillRestoreKeepsRestartsOwed(t *testing.T) {
	kills := killCount(t, 20)
	bin := certctlBin(t)
	rng, seed := seededRand(t)
	w, tmpl := preparedWriterNode(t, bin, func(t *testing.T, bin string, w writerNode) {
		w.make(t, bin)
		run(t, bin, append([]string{"renew", "apiserver"}, w.flags()...)...)
	})
	crt, owedPath := filepath.Join(w.certDir, "apiserver.crt"), filepath.Join(w.dir, ".certctl-restarts.json")
	renewed := read(t, crt)
	restore := append([]string{"restore", "latest"}, w.flags()...)
	// The kills are spread over the time a restore takes without restarts
	// (the shortest of 3): the restarts wait, the commit is before them.
	var commitTime time.Duration
	for range 3 {
		w.reset(t, tmpl)
		s := time.Now()
		run(t, bin, restore...)
		commitTime = min(cmp0(commitTime, time.Since(s)), time.Since(s))
	}
	restored := read(t, crt)
	restore = append(restore, "--restart-control-plane", "--manifest-dir", w.manifestDir, "--restart-timeout", "1s")
	for i := range kills {
		// Every other one near the end, where the commit is.
		span := [2]float64{0, 1.5}
		if i%2 == 1 {
			span = [2]float64{0.6, 1.1}
		}
		delay := time.Duration((span[0] + rng.Float64()*(span[1]-span[0])) * float64(commitTime))
		w.reset(t, tmpl)
		// SIGKILLed after delay unless it ended before, with any exit
		// status: the restart times out.
		ctx, cancel := context.WithTimeout(context.Background(), delay)
		out, _ := exec.CommandContext(ctx, bin, restore...).CombinedOutput()
		cancel()
		r := runCode(t, bin, append([]string{"check-expiration"}, w.flags()...)...)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("iteration %d (killed after %v, seed %d): "+format+"\nrestore said:\n%s\ncheck-expiration said:\n%s%s",
				append(append([]any{i, delay, seed}, args...), out, r.out, r.errOut)...)
		}
		if r.code != 0 && r.code != 4 { // 4: restarts owed
			fail("check-expiration exits %d after the kill", r.code)
		}
		said := parseRecovery(t, r.errOut)
		for _, k := range said.kinds {
			if k != "restore" {
				fail("recovery calls the transaction of restore a %s", k)
			}
		}
		owed, err := os.ReadFile(owedPath)
		switch now := read(t, crt); {
		case bytes.Equal(now, renewed):
			if err == nil {
				fail("nothing was restored, but %s holds restarts owed:\n%s", owedPath, owed)
			}
		case bytes.Equal(now, restored):
			if !strings.Contains(string(owed), `"kube-apiserver"`) {
				fail("apiserver.crt was restored, but kube-apiserver is not owed a restart (%v): no later run restarts it, nor says it must be\n%s", err, owed)
			}
		default:
			fail("apiserver.crt is neither the renewed one nor the restored one")
		}
		if left := leftovers(w.root); len(left) > 0 {
			fail("left behind after the recovery: %q", left)
		}
	}
}
