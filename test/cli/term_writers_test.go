package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// defaultTermKills is how many times TestTermWriters stops each command
// with SIGTERM; CERTCTL_KILLS overrides it, -short makes it 3.
const defaultTermKills = 8

// TestTermWriters stops the commands that write with SIGTERM (systemd's
// stop, a timer's timeout) at random instants, and checks that what the
// command then says is true: "nothing was changed" means that every file
// of the node is byte for byte the one before, none added or removed. The
// lock file and the CSR folder (which --use-csr and import read or write
// outside the node's folders) aside.
func TestTermWriters(t *testing.T) {
	kills := killCount(t, defaultTermKills)
	if testing.Short() && os.Getenv("CERTCTL_KILLS") == "" {
		kills = 3
	}
	bin := certctlBin(t)
	rng, seed := seededRand(t)
	made := func(t *testing.T, bin string, w writerNode) { w.make(t, bin) }
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, bin string, w writerNode)
		cmds    func(w writerNode) [][]string
	}{
		{"init-phase", nil, writerNode.initCmds},
		{"renew all", made, func(w writerNode) [][]string { return [][]string{append([]string{"renew", "all"}, w.flags()...)} }},
		{"restore latest", func(t *testing.T, bin string, w writerNode) {
			w.make(t, bin)
			run(t, bin, append([]string{"renew", "all"}, w.flags()...)...)
		}, func(w writerNode) [][]string { return [][]string{append([]string{"restore", "latest"}, w.flags()...)} }},
		{"certs import", func(t *testing.T, bin string, w writerNode) {
			w.make(t, bin)
			run(t, bin, append([]string{"renew", "all", "--use-csr", "--csr-dir", w.csrDir}, w.flags()...)...)
			signCSRs(t, w)
		}, func(w writerNode) [][]string {
			return [][]string{append([]string{"certs", "import", "--csr-dir", w.csrDir}, w.flags()...)}
		}},
		{"signer disable", made, func(w writerNode) [][]string { return w.signer("disable") }},
		{"ca rotate", made, func(w writerNode) [][]string {
			return [][]string{append([]string{"ca", "rotate", "ca", "--manifest-dir", w.manifestDir, "--max-token-lifetime", "1ms", "--node-only"}, w.flags()...)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, tmpl := preparedWriterNode(t, bin, tc.prepare)
			var runTime time.Duration
			for range 2 {
				w.reset(t, tmpl)
				s := time.Now()
				for _, c := range tc.cmds(w) {
					run(t, bin, c...)
				}
				runTime = cmp0(runTime, time.Since(s))
			}
			node := func(rel string) bool {
				return !strings.HasPrefix(rel, "csr/") && filepath.Base(rel) != ".certctl.lock"
			}
			stats := map[string]int{}
			defer func() { t.Logf("%d stops: %v", kills, stats) }()
			for i := range kills {
				delay := time.Duration(rng.Float64() * 1.1 * float64(runTime))
				w.reset(t, tmpl)
				said, start, stopped := runTermed(t, bin, tc.cmds(w), delay, func() map[string][]byte { return snapshotFiles(t, w.root) })
				switch {
				case !stopped:
					stats["ended first"]++
				case strings.Contains(said, "nothing was changed"):
					stats["nothing was changed"]++
				default:
					stats["said something else, or nothing"]++
				}
				if !stopped || !strings.Contains(said, "nothing was changed") {
					continue
				}
				now := snapshotFiles(t, w.root)
				for rel, data := range now {
					if old, ok := start[rel]; node(rel) && (!ok || !bytes.Equal(old, data)) {
						t.Errorf("iteration %d (after %v, seed %d): the command said nothing was changed, but %s is new or changed:\n%s", i, delay, seed, rel, said)
					}
				}
				for rel := range start {
					if _, ok := now[rel]; node(rel) && !ok {
						t.Errorf("iteration %d (after %v, seed %d): the command said nothing was changed, but %s is gone:\n%s", i, delay, seed, rel, said)
					}
				}
				if t.Failed() {
					t.FailNow()
				}
			}
		})
	}
}

// runTermed runs cmds one after the other and sends SIGTERM to the one
// running after delay; it returns the stderr of that one and the snapshot
// taken before it started, and whether one was stopped so (an exit on its
// own is not).
func runTermed(t *testing.T, bin string, cmds [][]string, delay time.Duration, snapshot func() map[string][]byte) (string, map[string][]byte, bool) {
	t.Helper()
	deadline := time.Now().Add(delay)
	for _, c := range cmds {
		before := snapshot()
		var out syncBuffer
		cmd := exec.Command(bin, c...)
		cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("certctl %s failed on its own: %v\n%s", strings.Join(c, " "), err, out.String())
			}
		case <-time.After(time.Until(deadline)):
			cmd.Process.Signal(syscall.SIGTERM)
			<-done
			return out.String(), before, true
		}
	}
	return "", nil, false
}
