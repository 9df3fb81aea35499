package carotate

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestStatusClusterBoundedExecPlugin: with a kubeconfig whose exec
// credential plugin hangs, ca status's reads of the cluster record,
// bounded to apiTimeout (10 s), waited for the plugin (30 s here):
// client-go runs it without the request's context. The report now comes
// at the bound, with this node's stages, and says the cluster was not
// read and why.
func TestStatusClusterBoundedExecPlugin(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "plugin.conf")
	pkitest.HangingExecPluginKubeconfig(t, path)
	connect := func() (kubernetes.Interface, string, error) {
		c, err := kubeclient.New(kubeclient.Options{Kubeconfig: path})
		if err != nil {
			return nil, "", err
		}
		return c, c.Config.Host + " (" + c.Source + ")", nil
	}
	start := time.Now()
	r, err := Status(context.Background(), StatusOptions{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, Now: f.now, Connect: connect})
	if took := time.Since(start); took > apiTimeout+5*time.Second {
		t.Errorf("ca status took %v with an exec plugin that hangs, want about %v (apiTimeout)", took.Round(time.Second), apiTimeout)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(r.CAs) == 0 {
		t.Error("no stages of this node's CAs")
	}
	if !strings.Contains(r.ClusterNotRead, "list the control-plane Nodes") || !strings.Contains(r.ClusterNotRead, "exec credential plugin") {
		t.Errorf("the report says the cluster was not read because %q, want the Nodes' list and the plugin named", r.ClusterNotRead)
	}
}
