package clusterview

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestAPIReadsBoundedExecPlugin: with a kubeconfig whose exec credential
// plugin hangs, check-expiration --cluster's reads of the API server,
// bounded together to three times Timeout, waited for the plugin (30 s
// per read here): client-go runs it without the request's context. The
// report now goes on at the bound, through etcd's member list, and says
// the API server gave no answer.
func TestAPIReadsBoundedExecPlugin(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "plugin.conf")
	pkitest.HangingExecPluginKubeconfig(t, path)
	client, err := kubeclient.New(kubeclient.Options{Kubeconfig: path})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{CertDir: f.node.CertDir(), Now: now, Client: client, EtcdEndpoints: []string{"https://" + f.etcd}, Timeout: 500 * time.Millisecond}
	start := time.Now()
	r, err := Check(context.Background(), o)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the check took %v with an exec plugin that hangs, want about 1.5 s (3 x Timeout) and etcd's answer", took.Round(time.Second))
	}
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(r.Warnings, "\n"); !strings.Contains(w, "the API server gave no answer within 1.5s") {
		t.Errorf("warnings do not say the API server gave no answer:\n%s", w)
	}
}
