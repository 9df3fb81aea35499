package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/freeport"
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
	l, err := lock.AcquireWait(context.Background(), filepath.Join(n.dir, lock.FileName), lock.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	before := treetest.Snapshot(t, n.dir)
	pid := "pid " + strconv.Itoa(os.Getpid())
	id := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256"}
	for _, args := range [][]string{
		append([]string{"renew", "all"}, n.flags()...),
		append([]string{"renew", "all", "--if-expires-within", "9000h", "--certificate-validity", "9500h", "-o", "json"}, n.flags()...),
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
	if r.code != 2 || !onlyConfigLine(r.errOut) || !strings.Contains(r.out, "Nothing to do") {
		t.Errorf("second run: exit %d, stdout %q, stderr %q; want 2 and only the [config] line on stderr", r.code, r.out, r.errOut)
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

// restartManifests writes static pod manifests of etcd and kube-scheduler
// that read n's files (mounted as /etc/kubernetes) and listen on local
// ports where nothing listens yet: etcd's client port (serving
// etcd/server.crt) and kube-scheduler's secure port.
func restartManifests(t *testing.T, n node) (dir string, etcdPort, schedulerPort int) {
	t.Helper()
	dir = t.TempDir()
	// Below the ephemeral range: free until the test's kubelet listens
	// there, seconds later (freeport).
	etcdPort, schedulerPort = freeport.Port(t), freeport.Port(t)
	pod := func(name string, flags ...string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  labels: {component: %[1]s, tier: control-plane}
  name: %[1]s
  namespace: kube-system
spec:
  containers:
  - command: [%[1]s, %[2]s]
    image: registry.k8s.io/%[1]s:test
    name: %[1]s
    volumeMounts:
    - {mountPath: /etc/kubernetes, name: k8s}
  hostNetwork: true
  volumes:
  - hostPath: {path: %[3]s, type: Directory}
    name: k8s
`, name, strings.Join(flags, ", "), n.dir)
	}
	for name, data := range map[string]string{
		"etcd.yaml": pod("etcd", "--cert-file=/etc/kubernetes/pki/etcd/server.crt", "--key-file=/etc/kubernetes/pki/etcd/server.key",
			fmt.Sprintf("--listen-client-urls=https://127.0.0.1:%d", etcdPort)),
		"kube-scheduler.yaml": pod("kube-scheduler", "--kubeconfig=/etc/kubernetes/scheduler.conf", "--bind-address=127.0.0.1",
			fmt.Sprintf("--secure-port=%d", schedulerPort)),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, etcdPort, schedulerPort
}

// annotation returns the restart annotation of a manifest, "" when none.
func annotation(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`certctl.io/restartedAt: "?([^"\n]*)`).FindSubmatch(data)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// playKubelet starts, in this process, the component of a manifest once
// its restart annotation changes: it listens on port, with TLS and cert
// when cert is not nil. certctl then sees a new process on the port.
func playKubelet(t *testing.T, manifest string, port int, cert *tls.Certificate) {
	t.Helper()
	seen := annotation(t, manifest)
	stop := make(chan struct{})
	done := make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		for annotation(t, manifest) == seen {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		var l net.Listener
		var err error
		if cert != nil {
			l, err = tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{*cert}})
		} else {
			l, err = net.Listen("tcp", addr)
		}
		if err != nil {
			t.Errorf("kubelet: listen on %s: %v", addr, err)
			return
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				if tc, ok := c.(*tls.Conn); ok {
					tc.Handshake()
				}
				c.Close()
			}
		}()
		<-stop
	}()
}

type restartSummary struct {
	Status   string `json:"status"`
	Error    string `json:"error"`
	Restarts []struct {
		Component, Status string
	} `json:"restarts"`
	PendingRestarts []struct {
		Component string
		Files     []string
		Reason    string
	} `json:"pendingRestarts"`
}

// TestCronRestartOwedIsRetried: etcd does not come back after a renewal:
// exit 1, kube-scheduler after it is skipped, and both are remembered
// (beside the certificate folder). The next day, with nothing to renew,
// they are retried: exit 1 while etcd stays down; a run without
// --restart-control-plane warns; once the kubelet restarts them, exit 0
// and nothing is owed any more; the day after, exit 2 in silence.
func TestCronRestartOwedIsRetried(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	manifests, etcdPort, schedulerPort := restartManifests(t, n)
	run(t, bin, append([]string{"renew", "etcd-server", "scheduler.conf", "--certificate-validity", "24h"}, n.flags()...)...)
	cron := append([]string{"renew", "all", "--if-expires-within", "48h", "--restart-control-plane", "--manifest-dir", manifests,
		"--restart-timeout", "1s"}, n.flags()...)
	state := filepath.Join(n.dir, ".certctl-restarts.json")
	day := func(name string, wantCode int, extra ...string) (result, restartSummary) {
		t.Helper()
		r := runCode(t, bin, append(append([]string{}, cron...), extra...)...)
		var s restartSummary
		if slices.Contains(extra, "json") {
			if err := json.Unmarshal([]byte(r.out), &s); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, r.out)
			}
		}
		if r.code != wantCode {
			t.Fatalf("%s: exit %d, want %d\n%s%s", name, r.code, wantCode, r.out, r.errOut)
		}
		return r, s
	}

	_, s := day("the renewal", 1, "-o", "json")
	if len(s.Restarts) != 2 || s.Restarts[0].Status != "unreachable" || s.Restarts[1].Status != "skipped" {
		t.Errorf("restarts %+v", s.Restarts)
	}
	if len(s.PendingRestarts) != 2 || s.PendingRestarts[0].Component != "etcd" || !strings.Contains(s.PendingRestarts[0].Reason, "not reachable") ||
		s.PendingRestarts[1].Component != "kube-scheduler" || !slices.Equal(s.PendingRestarts[1].Files, []string{filepath.Join(n.dir, "scheduler.conf")}) {
		t.Errorf("pending %+v", s.PendingRestarts)
	}
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("nothing remembered: %v", err)
	}
	if annotation(t, filepath.Join(manifests, "kube-scheduler.yaml")) != "" {
		t.Error("kube-scheduler was annotated after etcd failed")
	}

	r, s := day("the next day, etcd still down", 1, "-o", "json")
	if s.Status != "error" || len(s.Restarts) != 2 || len(s.PendingRestarts) != 2 || !strings.Contains(s.Error, "etcd is not reachable") {
		t.Errorf("retry: %+v\n%s", s, r.errOut)
	}
	plain := runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "48h"}, n.flags()...)...)
	if plain.code != 2 || !strings.Contains(plain.out, "[warning] etcd, kube-scheduler must still be restarted") || !strings.Contains(plain.out, state) {
		t.Errorf("without --restart-control-plane: exit %d\n%s%s", plain.code, plain.out, plain.errOut)
	}
	// --quiet prints errors only, but an owed restart is said all the same
	// (on stderr), and check-expiration reports it with its own status.
	quiet := runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "48h", "--quiet"}, n.flags()...)...)
	if quiet.code != 2 || quiet.out != "" || !strings.Contains(quiet.errOut, "[warning] etcd, kube-scheduler must still be restarted") {
		t.Errorf("--quiet with restarts owed: exit %d, stdout %q, stderr %q", quiet.code, quiet.out, quiet.errOut)
	}
	check := runCode(t, bin, append([]string{"check-expiration"}, n.flags()...)...)
	if check.code != 4 || !strings.Contains(check.out, "RESTARTS OWED") || !strings.Contains(check.errOut, "2 restart(s) owed: etcd") {
		t.Errorf("check-expiration with restarts owed: exit %d, want 4\n%s%s", check.code, check.out, check.errOut)
	}

	serving, err := tls.LoadX509KeyPair(filepath.Join(n.certDir, "etcd", "server.crt"), filepath.Join(n.certDir, "etcd", "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	playKubelet(t, filepath.Join(manifests, "etcd.yaml"), etcdPort, &serving)
	playKubelet(t, filepath.Join(manifests, "kube-scheduler.yaml"), schedulerPort, nil)
	r, s = day("the kubelet is back", 0, "-o", "json", "--restart-timeout", "20s")
	if s.Status != "restarted" || len(s.Restarts) != 2 || s.Restarts[0].Status != "serving-new-certificate" || s.Restarts[1].Status != "restarted" || len(s.PendingRestarts) != 0 {
		t.Errorf("retry: %+v\n%s", s, r.errOut)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("%s stays after the restarts: %v", state, err)
	}
	if r := runCode(t, bin, append(append([]string{}, cron...), "--quiet")...); r.code != 2 || r.out+r.errOut != "" {
		t.Errorf("the day after: exit %d, output %q", r.code, r.out+r.errOut)
	}
}

// TestCronMissingFileIsNothingToDo: on a node without super-admin.conf
// (every control-plane node but the first), the daily run reports it and
// has nothing to do: exit 2, not 0 every day.
func TestCronMissingFileIsNothingToDo(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	os.Remove(filepath.Join(n.dir, "super-admin.conf"))
	r := runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "720h"}, n.flags()...)...)
	if r.code != 2 || !strings.Contains(r.out, "super-admin.conf not found, skipped") || !strings.Contains(r.out, "Nothing to do") || !onlyConfigLine(r.errOut) {
		t.Errorf("exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	if _, err := os.Stat(filepath.Join(n.dir, "certctl-backups")); !os.IsNotExist(err) {
		t.Errorf("a backup was made: %v", err)
	}
}

// onlyConfigLine reports whether stderr holds only the line that says where
// the node's settings came from (docs/renew.md, "Which configuration").
func onlyConfigLine(stderr string) bool {
	return strings.HasPrefix(stderr, "[config] using ") && strings.Count(stderr, "\n") == 1 && strings.HasSuffix(stderr, "\n")
}
