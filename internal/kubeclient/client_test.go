package kubeclient

import (
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestKubeconfigPrecedence: --kubeconfig, else KUBECONFIG-DIR/admin.conf,
// else $KUBECONFIG, else ~/.kube/config, else the pod's service account.
func TestKubeconfigPrecedence(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := time.Now()
	other := n.APIKubeconfig(t, "https://192.0.2.7:6443", pki.NewValidity(now, time.Hour, time.Hour))
	empty := t.TempDir()
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("HOME", empty) // no ~/.kube/config
	for _, tc := range []struct {
		name, flag, dir, env string
		want                 string // the source, or the error
	}{
		{"--kubeconfig wins", other, n.Dir, "", "kubeconfig " + other},
		{"admin.conf of --kubeconfig-dir", "", n.Dir, other, "kubeconfig " + n.Path("admin.conf")},
		{"then $KUBECONFIG", "", empty, other, "$KUBECONFIG " + other},
		{"then the pod's service account", "", empty, "", "no --kubeconfig, no " + empty + "/admin.conf and no $KUBECONFIG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tc.env)
			c, err := New(Options{Kubeconfig: tc.flag, KubeconfigDir: tc.dir, Now: func() time.Time { return now }})
			source := ""
			if c != nil {
				source = c.Source
			}
			if err != nil {
				source += err.Error()
			}
			if !strings.Contains(source, tc.want) {
				t.Errorf("source %q, error %v; want %q", source, err, tc.want)
			}
		})
	}
}

func TestClientCertUser(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	kc := n.APIKubeconfig(t, "https://192.0.2.7:6443", pki.NewValidity(time.Now(), time.Hour, time.Hour))
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	if got := (&Client{Config: cfg}).User(); got != "kubernetes-admin" {
		t.Errorf("User = %q, want kubernetes-admin", got)
	}
	if got := (&Client{Config: &rest.Config{BearerToken: "t"}}).User(); got != "" {
		t.Errorf("User of a token = %q", got)
	}
}
