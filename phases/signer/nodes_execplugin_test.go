package signer

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
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
