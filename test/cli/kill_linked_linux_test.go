package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

// TestKillLinkedCertDir kills `certctl renew all` at random instants on a
// node whose certificate folder is a link (etc-kubernetes/pki) to a folder
// on another file system (a tmpfs, as a data disk), given one name, then
// runs check-expiration given the other name: it must finish or discard
// the transaction left beside the first name (its files staged on one
// file system, their targets on the other), leaving every certificate
// old or every one new, each matching its key, and no staging or
// temporary file under either name. Runs alternate the names.
func TestKillLinkedCertDir(t *testing.T) {
	kills := killCount(t, 40)
	bin := certctlBin(t)
	rng, seed := seededRand(t)
	n := makeNode(t, bin, "ECDSA-P256")
	mnt := treetest.SmallFS(t, 16<<20)
	real := filepath.Join(mnt, "pki")
	if out, err := exec.Command("mv", n.certDir, real).CombinedOutput(); err != nil {
		t.Fatalf("move the certificate folder: %v: %s", err, out)
	}
	if err := os.Symlink(real, n.certDir); err != nil {
		t.Fatal(err)
	}
	names := [2]string{n.certDir, real}
	runTime := measure(t, bin, n)
	recovered := 0
	for i := range kills {
		given, other := names[i%2], names[(i+1)%2]
		delay := time.Duration(rng.Float64() * 1.2 * float64(runTime))
		scratch := t.TempDir()
		before := serials(t, n.pairs(t, scratch))
		cmd := exec.Command(bin, "renew", "all", "--cert-dir", given, "--kubeconfig-dir", n.dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Kill()
		err := cmd.Wait()
		if cmd.ProcessState.Exited() && err != nil {
			t.Fatalf("iteration %d: renew all failed on its own: %v", i, err)
		}
		rec := run(t, bin, "check-expiration", "--cert-dir", other, "--kubeconfig-dir", n.dir)
		if strings.Contains(rec, "[recover] finished") || strings.Contains(rec, "[recover] discarded") {
			recovered++
		}
		pairs := n.pairs(t, scratch)
		verifyOpenSSL(t, pairs)
		after := serials(t, pairs)
		changed := 0
		for name := range before {
			if before[name] != after[name] {
				changed++
			}
		}
		if changed != 0 && changed != len(before) {
			t.Errorf("iteration %d (given %s, killed after %v): %d of %d certificates renewed, want all or none", i, given, delay, changed, len(before))
		}
		for _, d := range []string{n.dir, mnt} {
			if left := leftovers(d); len(left) > 0 {
				t.Errorf("iteration %d (given %s, killed after %v): left behind: %q", i, given, delay, left)
			}
		}
		if t.Failed() {
			t.Fatalf("iteration %d (delay %v, seed %d) failed; check-expiration given %s said:\n%s", i, delay, seed, other, rec)
		}
	}
	t.Logf("%d kills: %d transactions recovered under the other name", kills, recovered)
}
