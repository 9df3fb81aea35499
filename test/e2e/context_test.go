package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/refused"
	"github.com/certctl/certctl/internal/testcluster"
)

// TestContextPicksTheCluster: with one kubeconfig that holds several
// clusters, whose current-context is not the harness's, --context picks
// the harness's, as kubectl's does: renew --use-api requests through it and
// prints approve commands that carry it; the printed `certctl approve`
// approves through it; an unknown context is a one-line error naming the
// kubeconfig, the context and the contexts it has.
func TestContextPicksTheCluster(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 5*time.Minute)
	merged := twoContexts(t, c)

	out, err := runCertctl(t, ctx, "approve", "certctl-x", "--kubeconfig", merged, "--context", "staging")
	want := "error: kubeconfig " + merged + ` has no context "staging" (its contexts: elsewhere, harness): pass --context one of them, or --kubeconfig the kubeconfig that has it` + "\n"
	if err == nil || out != want {
		t.Errorf("approve --context staging: %v, printed\n%q\nwant\n%q", err, out, want)
	}

	r := startRenew(t, ctx, c, "admin.conf", "--use-api", "--kubeconfig", merged, "--context", "harness", "--timeout", "2m")
	l := r.nextCSR(t, ctx)
	<-r.waiting
	carry := " --kubeconfig " + merged + " --context harness"
	printed := ""
	for _, line := range strings.Split(r.output(), "\n") {
		if rest, ok := strings.CutPrefix(line, "  certctl approve --all-from-node "); ok {
			printed = rest
		}
	}
	if !strings.Contains(r.output(), "kubectl certificate approve "+l.name+carry+"\n") || !strings.Contains(printed, carry) {
		t.Fatalf("the approve commands do not carry %q:\n%s", carry, r.output())
	}
	// Completion lists the pending CSR for approve and deny, from the
	// API server of --context, as kubectl completes names; not for sign,
	// which takes approved ones. Through the current context, whose
	// server refuses connections, it lists none and says nothing.
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"approve", "--kubeconfig", merged, "--context", "harness", ""}, true},
		{[]string{"deny", "--kubeconfig", merged, "--context", "harness", "certctl-"}, true},
		{[]string{"sign", "--kubeconfig", merged, "--context", "harness", ""}, false},
		{[]string{"approve", "--kubeconfig", merged, ""}, false},
	} {
		start := time.Now()
		cmd := exec.CommandContext(ctx, signerCertctl(t), append([]string{"__complete"}, tc.args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		names, err := cmd.Output()
		t.Logf("$ certctl __complete %s\n%s%s", strings.Join(tc.args, " "), names, stderr.String())
		if err != nil || strings.Contains(string(names), l.name+"\n") != tc.want || time.Since(start) > 10*time.Second {
			t.Errorf("__complete %s: %v, %q after %v; want %s listed: %v", strings.Join(tc.args, " "), err, names, time.Since(start), l.name, tc.want)
		}
		if strings.Contains(stderr.String(), "rror") || strings.Contains(stderr.String(), "refused") {
			t.Errorf("__complete %s said %q", strings.Join(tc.args, " "), stderr.String())
		}
	}
	args := append(append([]string{"approve", "--all-from-node"}, strings.Fields(printed)...), c.PKI().Flags()...)
	if approved, err := runCertctl(t, ctx, args...); err != nil || !strings.Contains(approved, "[approve] CSR "+l.name+" approved") {
		t.Fatalf("the printed certctl approve: %v\n%s", err, approved)
	}
	if out, code := r.wait(t); code != 0 || !strings.Contains(out, "(kubeconfig "+merged+" (context harness))") {
		t.Fatalf("certctl renew --use-api --context harness: exit status %d", code)
	}
}

// twoContexts writes a kubeconfig of c's super-admin.conf as context
// "harness" and, current, a context "elsewhere" of a server that refuses
// every connection.
func twoContexts(t *testing.T, c *testcluster.Cluster) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig("super-admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	cur := cfg.Contexts[cfg.CurrentContext]
	delete(cfg.Contexts, cfg.CurrentContext)
	cfg.Contexts["harness"] = cur
	other := cfg.Clusters[cur.Cluster].DeepCopy()
	other.Server = "https://" + refused.Addr(t)
	cfg.Clusters["elsewhere"] = other
	ctx := cur.DeepCopy()
	ctx.Cluster = "elsewhere"
	cfg.Contexts["elsewhere"] = ctx
	cfg.CurrentContext = "elsewhere"
	path := filepath.Join(t.TempDir(), "all-clusters.conf")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
