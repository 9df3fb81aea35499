package kubeclient

import (
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// twoClusters writes a kubeconfig with the current context of
// APIKubeconfig (server https://192.0.2.7:6443) and a context "prod" of
// another cluster (https://192.0.2.8:6443), as one admin kubeconfig merged
// for many clusters has.
func twoClusters(t *testing.T, n *pkitest.Node, now time.Time) string {
	t.Helper()
	path := n.APIKubeconfig(t, "https://192.0.2.7:6443", pki.NewValidity(now, time.Hour, time.Hour))
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cur := cfg.Contexts[cfg.CurrentContext]
	prod := cfg.Clusters[cur.Cluster].DeepCopy()
	prod.Server = "https://192.0.2.8:6443"
	cfg.Clusters["prod"] = prod
	ctx := cur.DeepCopy()
	ctx.Cluster = "prod"
	cfg.Contexts["prod"] = ctx
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestContext: --context picks a context of the kubeconfig found, as
// kubectl's does; one it lacks is named with the kubeconfig and the ones
// it has. It never makes certctl look past KUBECONFIG-DIR/admin.conf.
func TestContext(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := time.Now()
	merged := twoClusters(t, n, now)
	empty := t.TempDir()
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("HOME", empty)
	for _, tc := range []struct {
		name, flag, dir, env, context string
		want                          string // the server and source, or the error
	}{
		{"the current context without --context", merged, "", "", "", "https://192.0.2.7:6443 kubeconfig " + merged},
		{"--context of --kubeconfig", merged, "", "", "prod", "https://192.0.2.8:6443 kubeconfig " + merged + " (context prod)"},
		{"--context of $KUBECONFIG", "", empty, merged, "prod", "https://192.0.2.8:6443 $KUBECONFIG " + merged + " (context prod)"},
		{"an unknown context", merged, "", "", "stage",
			"kubeconfig " + merged + ` has no context "stage" (its contexts: kubernetes-admin@kubernetes, prod): pass --context one of them, or --kubeconfig the kubeconfig that has it`},
		{"admin.conf of --kubeconfig-dir first, whose contexts it picks from", "", n.Dir, merged, "prod",
			"kubeconfig " + n.Path("admin.conf") + ` has no context "prod" (its contexts: kubernetes-admin@kubernetes)`},
		{"no kubeconfig to pick from", "", empty, "", "prod", `find the context "prod": no --kubeconfig, $KUBECONFIG or ~/.kube/config to find it in`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tc.env)
			c, err := New(Options{Kubeconfig: tc.flag, KubeconfigDir: tc.dir, Context: tc.context, Now: func() time.Time { return now }})
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = c.Config.Host + " " + c.Source
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if err != nil && strings.Contains(got, "\n") {
				t.Errorf("error of more than one line: %q", got)
			}
		})
	}
}
