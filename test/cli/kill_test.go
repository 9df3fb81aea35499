package cli

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// defaultKills is how many times TestKillRenewAll kills `certctl renew all`
// (the issue asks for at least 200); CERTCTL_KILLS overrides it.
const defaultKills = 200

// rsaEvery makes every Nth iteration run on the RSA-2048 node; the others
// use ECDSA-P256, whose keys are made in microseconds, so that most kills
// land in the parts where files are written rather than in key generation.
const rsaEvery = 8

// TestKillRenewAll starts `certctl renew all` and SIGKILLs it after a
// random delay spread over a measured run (0 and longer than a run
// included, the end of the run weighted more), then runs `certctl check-expiration`, which must recover and
// find no problem, and checks with openssl that every certificate, in the
// cert folder and embedded in the kubeconfigs, matches its key and chains
// to its CA; that the run replaced all certificates or none; that no
// staging or temporary file is left; and that a completed run left a
// backup of the previous certificates.
func TestKillRenewAll(t *testing.T) {
	kills := killCount(t, defaultKills)
	bin := certctlBin(t)
	rng, seed := seededRand(t)

	nodes := map[string]node{"ECDSA-P256": makeNode(t, bin, "ECDSA-P256"), "RSA-2048": makeNode(t, bin, "RSA-2048")}
	runTime := map[string]time.Duration{}
	for alg, n := range nodes {
		runTime[alg] = measure(t, bin, n)
		t.Logf("%s: renew all takes %v", alg, runTime[alg])
	}

	var stats struct{ finished, committed, discarded, before int }
	start := time.Now()
	for i := range kills {
		alg := "ECDSA-P256"
		if i%rsaEvery == rsaEvery-1 {
			alg = "RSA-2048"
		}
		n := nodes[alg]
		// Uniform over [0, 1.25 run], and every other one over the last
		// part of the run, [0.6, 1.1 run], where the short commit window
		// is, so that roll-forwards are hit often too. The first two are
		// exactly 0 and 2 runs.
		span := [2]float64{0, 1.25}
		if i%2 == 1 {
			span = [2]float64{0.6, 1.1}
		}
		delay := time.Duration((span[0] + rng.Float64()*(span[1]-span[0])) * float64(runTime[alg]))
		switch i {
		case 0:
			delay = 0
		case 1:
			delay = 2 * runTime[alg]
		}
		scratch := t.TempDir()
		before := serials(t, n.pairs(t, scratch))

		cmd := exec.Command(bin, append([]string{"renew", "all"}, n.flags()...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		killed := cmd.Process.Kill() == nil
		err := cmd.Wait()
		exitedAlone := cmd.ProcessState.Exited()
		if exitedAlone && err != nil {
			t.Fatalf("iteration %d: renew all failed on its own: %v", i, err)
		}

		rec := run(t, bin, append([]string{"check-expiration"}, n.flags()...)...)
		switch {
		case exitedAlone:
			stats.finished++
		case strings.Contains(rec, "[recover] finished"):
			stats.committed++
		case strings.Contains(rec, "[recover] discarded"):
			stats.discarded++
		default:
			stats.before++ // killed before it staged anything
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
			t.Errorf("iteration %d (%s, killed=%v after %v): %d of %d certificates renewed, want all or none", i, alg, killed, delay, changed, len(before))
		}
		if changed > 0 {
			checkBackup(t, n, before)
		}
		// What recovery says must be what happened.
		if strings.Contains(rec, "[recover] discarded") && changed != 0 {
			t.Errorf("iteration %d (%s, killed after %v): recovery said it discarded a renewal that changed no file, but %d certificates are new", i, alg, delay, changed)
		}
		if strings.Contains(rec, "[recover] finished") && changed != len(before) {
			t.Errorf("iteration %d (%s, killed after %v): recovery said it finished a renewal, but %d of %d certificates are new", i, alg, delay, changed, len(before))
		}
		// And the number of files it says it replaced: those the
		// backup lists (no run here has --no-backup).
		said := parseRecovery(t, rec)
		checkRemovedSaid(t, said)
		for _, k := range said.kinds {
			if k != "renewal" {
				t.Errorf("iteration %d: recovery calls the transaction of renew all a %s, want renewal", i, k)
			}
		}
		checkSavedIn(t, said)
		for j, n := range said.finished {
			if said.savedIn[j] == "" {
				t.Errorf("iteration %d (%s, killed after %v): recovery finished a renewal of %d file(s) and names no backup", i, alg, delay, n)
			}
		}
		if left := leftovers(n.dir); len(left) > 0 {
			t.Errorf("iteration %d (%s, killed after %v): left behind: %q", i, alg, delay, left)
		}
		if t.Failed() {
			t.Fatalf("iteration %d (%s, delay %v, seed %d) failed; check-expiration said:\n%s", i, alg, delay, seed, rec)
		}
	}
	t.Logf("%d kills in %v: %d runs finished before the kill, %d killed after commit and rolled forward, %d killed before commit and discarded, %d killed before staging",
		kills, time.Since(start).Round(time.Millisecond), stats.finished, stats.committed, stats.discarded, stats.before)
}

// measure returns the shortest wall time of three uninterrupted runs: the
// machine is shared, and a longer estimate would put most kills after the
// end of the run.
func measure(t *testing.T, bin string, n node) time.Duration {
	t.Helper()
	var ds []time.Duration
	for range 3 {
		s := time.Now()
		run(t, bin, append([]string{"renew", "all"}, n.flags()...)...)
		ds = append(ds, time.Since(s))
	}
	return slices.Min(ds)
}

// checkBackup checks that the newest backup holds the certificates that
// were replaced.
func checkBackup(t *testing.T, n node, before map[string]string) {
	t.Helper()
	root := filepath.Join(n.dir, "certctl-backups")
	entries, err := os.ReadDir(root)
	if err != nil || len(entries) == 0 {
		t.Errorf("no backup in %s after a renewal: %v", root, err)
		return
	}
	newest := filepath.Join(root, entries[len(entries)-1].Name())
	if got := serialOf(t, filepath.Join(newest, "pki", "apiserver.crt")); got != before["apiserver"] {
		t.Errorf("backup %s holds apiserver.crt serial %s, want the replaced one %s", newest, got, before["apiserver"])
	}
	if _, err := os.Stat(filepath.Join(newest, "backup.json")); err != nil {
		t.Errorf("backup %s: %v", newest, err)
	}
}

// killCount is how many kills a kill test makes: CERTCTL_KILLS when set,
// 20 with -short, else def.
func killCount(t *testing.T, def int) int {
	t.Helper()
	if s := os.Getenv("CERTCTL_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("CERTCTL_KILLS=%q: %v", s, err)
		}
		return n
	}
	if testing.Short() {
		return 20
	}
	return def
}

// seededRand is a kill test's source of random delays and its seed, which
// is logged and named in failures to compare runs.
func seededRand(t *testing.T) (*rand.Rand, uint64) {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (delays are random; the seed is logged to compare runs)", seed)
	return rand.New(rand.NewPCG(seed, seed>>1)), seed
}
