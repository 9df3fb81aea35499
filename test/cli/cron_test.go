package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/treetest"
)

// result is how one certctl run ended.
type result struct {
	out, errOut string
	code        int
}

func runCode(t *testing.T, bin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{out: out.String(), errOut: errOut.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("certctl %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// TestConcurrentRenewAllSerialize: two `renew all` started together both
// succeed, one after the other: the second one's backup holds what the
// first one wrote, which it could only have read after the first had
// finished. The tree is consistent (openssl), with no leftovers.
func TestConcurrentRenewAllSerialize(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "RSA-2048") // slow keys: the runs overlap
	scratch := t.TempDir()
	original := serials(t, n.pairs(t, scratch))

	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runCode(t, bin, append([]string{"renew", "all", "--lock-timeout", "2m"}, n.flags()...)...)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("run %d: exit %d\n%s%s", i, r.code, r.out, r.errOut)
		}
	}
	backups, err := os.ReadDir(filepath.Join(n.dir, "certctl-backups"))
	if err != nil || len(backups) != 2 {
		t.Fatalf("backups: %v, %v; want two", backups, err)
	}
	first := filepath.Join(n.dir, "certctl-backups", backups[0].Name(), "pki", "apiserver.crt")
	second := filepath.Join(n.dir, "certctl-backups", backups[1].Name(), "pki", "apiserver.crt")
	if serialOf(t, first) != original["apiserver"] {
		t.Errorf("the first backup does not hold the original apiserver.crt")
	}
	if s := serialOf(t, second); s == original["apiserver"] || s == serialOf(t, filepath.Join(n.certDir, "apiserver.crt")) {
		t.Errorf("the second backup's apiserver.crt (serial %s) is not the one the first run wrote: the runs overlapped", s)
	}
	pairs := n.pairs(t, scratch)
	verifyOpenSSL(t, pairs)
	for name, s := range serials(t, pairs) {
		if s == original[name] {
			t.Errorf("%s was not renewed", name)
		}
	}
	if l := leftovers(n.dir); len(l) > 0 {
		t.Errorf("left behind: %q", l)
	}
}

// TestLockTimeoutNamesTheHolder: while another process holds the lock, a
// writing command waits --lock-timeout, then fails naming that process's
// PID and writes nothing; read-only commands do not wait.
func TestLockTimeoutNamesTheHolder(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	l, err := lock.Acquire(context.Background(), filepath.Join(n.dir, lock.FileName), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	before := treetest.Snapshot(t, n.dir)
	pid := "pid " + strconv.Itoa(os.Getpid())
	id := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256"}
	for _, args := range [][]string{
		append([]string{"renew", "all"}, n.flags()...),
		append([]string{"renew", "all", "--if-expires-within", "9000h", "-o", "json"}, n.flags()...),
		append([]string{"restore", "latest"}, n.flags()...),
		append([]string{"init-phase", "certs", "all", "--cert-dir", n.certDir}, id...),
		append(append([]string{"init-phase", "kubeconfig", "all"}, n.flags()...), id...),
		{"signer", "disable", "--manifest", filepath.Join(n.dir, "manifests", "kube-controller-manager.yaml")},
	} {
		start := time.Now()
		r := runCode(t, bin, append(args, "--lock-timeout", "300ms")...)
		if r.code != 1 || !strings.Contains(r.errOut, pid) || !strings.Contains(r.errOut, "--lock-timeout") {
			t.Errorf("%s: exit %d, stderr %q; want 1 and a message naming %s", strings.Join(args, " "), r.code, r.errOut, pid)
		}
		if took := time.Since(start); took < 300*time.Millisecond {
			t.Errorf("%s gave up after %v, before --lock-timeout", strings.Join(args, " "), took)
		}
		if slices.Contains(args, "json") && !strings.Contains(r.out, `"status": "error"`) {
			t.Errorf("-o json printed no error summary: %s", r.out)
		}
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.dir))
	for _, args := range [][]string{{"check-expiration"}, {"certs", "list"}, {"restore"}} {
		start := time.Now()
		r := runCode(t, bin, append(args, n.flags()...)...)
		if r.code != 0 || time.Since(start) > 5*time.Second {
			t.Errorf("%s while the lock is held: exit %d after %v\n%s", strings.Join(args, " "), r.code, time.Since(start), r.errOut)
		}
	}
}

// TestRestoreCLI: `restore` lists the backup of a renewal, and
// `restore latest` brings back every file byte for byte.
func TestRestoreCLI(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	original := withoutCertctlFiles(treetest.Snapshot(t, n.dir))
	run(t, bin, append([]string{"renew", "all"}, n.flags()...)...)
	list := run(t, bin, append([]string{"restore"}, n.flags()...)...)
	if !strings.Contains(list, "NAME") || strings.Count(list, "\n") != 2 {
		t.Errorf("restore lists:\n%s", list)
	}
	out := run(t, bin, append([]string{"restore", "latest"}, n.flags()...)...)
	if strings.Count(out, "[restore] ") != 18 {
		t.Errorf("restore latest:\n%s", out)
	}
	treetest.AssertSame(t, original, withoutCertctlFiles(treetest.Snapshot(t, n.dir)))
	verifyOpenSSL(t, n.pairs(t, t.TempDir()))
}

// TestThresholdCLI: with certificates valid for 24h and others for a
// year, `renew all --if-expires-within 48h` renews exactly the short ones
// and says why it skipped each other one; run again, it exits 2.
func TestThresholdCLI(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	run(t, bin, append([]string{"renew", "apiserver", "admin.conf", "--certificate-validity", "24h"}, n.flags()...)...)
	scratch := t.TempDir()
	before := serials(t, n.pairs(t, scratch))
	r := runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "48h"}, n.flags()...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	after := serials(t, n.pairs(t, scratch))
	for name, s := range after {
		renewed := s != before[name]
		if want := name == "apiserver" || name == "admin.conf"; renewed != want {
			t.Errorf("%s renewed: %v, want %v", name, renewed, want)
		}
	}
	if c := strings.Count(r.out, "[skip] "); c != 9 {
		t.Errorf("%d [skip] lines, want 9:\n%s", c, r.out)
	}
	if !strings.Contains(r.out, "[skip] etcd-server: valid until ") || !strings.Contains(r.out, "not within --if-expires-within 48h0m0s") {
		t.Errorf("skip lines do not say why:\n%s", r.out)
	}
	r = runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "48h"}, n.flags()...)...)
	if r.code != 2 || r.errOut != "" || !strings.Contains(r.out, "Nothing to do") {
		t.Errorf("second run: exit %d, stdout %q, stderr %q; want 2 and nothing on stderr", r.code, r.out, r.errOut)
	}
	r = runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "48h", "--quiet"}, n.flags()...)...)
	if r.code != 2 || r.out != "" || r.errOut != "" {
		t.Errorf("--quiet: exit %d, output %q %q; want 2 and no output", r.code, r.out, r.errOut)
	}
}

// withoutCertctlFiles drops the backups and the lock file from a snapshot.
func withoutCertctlFiles(m map[string]string) map[string]string {
	for p := range m {
		if strings.Contains(p, "certctl-backups") || filepath.Base(p) == lock.FileName {
			delete(m, p)
		}
	}
	return m
}
