package signer

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestNodeWatcherStartBoundedExecPlugin: signer run's one List of the
// mirror pods, bounded to 10 s, returned only when the kubeconfig's exec
// credential plugin did (30 s here): client-go runs the plugin without the
// request's context. Start now returns at the bound, and the informers,
// whose sync signer run bounds itself, take over.
func TestNodeWatcherStartBoundedExecPlugin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin.conf")
	pkitest.HangingExecPluginKubeconfig(t, path)
	client, err := kubeclient.New(kubeclient.Options{Kubeconfig: path})
	if err != nil {
		t.Fatal(err)
	}
	base := config.Default()
	base.NodeName, base.AdvertiseAddress = "local", "203.0.113.1"
	w, err := NewNodeWatcher(client, NodeRules{}, base, testPolicy(t, PolicyOptions{Nodes: []*config.Cluster{&base}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // stops the informers
	start := time.Now()
	w.Start(ctx)
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("Start took %v with an exec plugin that hangs, want about 10 s (the List's bound)", took.Round(time.Second))
	}
}

// TestCSRCompletionsBoundedExecPlugin: the completion of approve's, deny's
// and sign's CSR names, bounded to CompletionTimeout (2 s), waited for a
// kubeconfig's exec credential plugin that hangs (30 s here): client-go
// runs it without the request's context. It now gives no names at the
// bound.
func TestCSRCompletionsBoundedExecPlugin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin.conf")
	pkitest.HangingExecPluginKubeconfig(t, path)
	connect := func() (kubernetes.Interface, error) { return kubeclient.New(kubeclient.Options{Kubeconfig: path}) }
	start := time.Now()
	got := CSRCompletions(context.Background(), connect, "Pending", nil, "")
	if took := time.Since(start); got != nil || took > CompletionTimeout+3*time.Second {
		t.Errorf("got %q after %v with an exec plugin that hangs, want none within about %v", got, took.Round(time.Second), CompletionTimeout)
	}
}

// TestAPIReachBoundedExecPlugin: signer run's /readyz lists one CSR,
// bounded to Bound, and fails once none answered for longer. A
// kubeconfig's exec credential plugin that hangs held the list (30 s
// here) with no error recorded, so /readyz said ready meanwhile. Now the
// list gives up at Bound and /readyz fails, naming the plugin.
func TestAPIReachBoundedExecPlugin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin.conf")
	pkitest.HangingExecPluginKubeconfig(t, path)
	client, err := kubeclient.New(kubeclient.Options{Kubeconfig: path})
	if err != nil {
		t.Fatal(err)
	}
	r := &APIReach{Client: client, Period: 100 * time.Millisecond, Bound: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	start := time.Now()
	for err = r.Check(); err == nil && time.Since(start) < 8*time.Second; err = r.Check() {
		time.Sleep(100 * time.Millisecond)
	}
	if err == nil || !strings.Contains(err.Error(), "exec credential plugin") {
		t.Errorf("/readyz's check after %v with an exec plugin that hangs: %v, want it failed after about 1 s (Bound), naming the plugin", time.Since(start).Round(time.Second), err)
	}
}

// TestRunSaysWhyUnsyncedExecPlugin: signer run's warning that it cannot
// list the CSRs comes from a list bounded to 10 s, which a kubeconfig's
// exec credential plugin that hangs held (30 s here): the signer ran
// silent meanwhile. The warning now comes at the bound, naming the plugin.
func TestRunSaysWhyUnsyncedExecPlugin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin.conf")
	pkitest.HangingExecPluginKubeconfig(t, path)
	client, err := kubeclient.New(kubeclient.Options{Kubeconfig: path})
	if err != nil {
		t.Fatal(err)
	}
	var log lockedBuffer
	c, err := NewController(ControllerOptions{
		Client: client, CAs: map[string]CAProvider{pki.CAName: newTestCA(t, "kubernetes", testNow.Add(time.Hour))},
		Policy: testPolicy(t, PolicyOptions{}), Log: slog.New(slog.NewTextHandler(&log, nil)), UnsyncedWarning: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	start := time.Now()
	for !strings.Contains(log.String(), "cannot list the CSRs") && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(start)
	cancel()
	<-done
	if out := log.String(); took > 15*time.Second || !strings.Contains(out, "exec credential plugin") {
		t.Errorf("after %v with an exec plugin that hangs, Run logged:\n%s\nwant a warning naming the plugin after about 10 s", took.Round(time.Second), out)
	}
}
