package kubeclient

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
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
		{"empty entries of $KUBECONFIG are skipped", "", empty, "::" + other + ":", "$KUBECONFIG " + other},
		{"a $KUBECONFIG of empty entries only is unset", "", empty, ":", "no --kubeconfig, no " + empty + "/admin.conf and no $KUBECONFIG"},
		{"a missing file of $KUBECONFIG is skipped", "", empty, empty + "/none:" + other, "$KUBECONFIG " + other},
		{"a $KUBECONFIG of missing files is named", "", empty, empty + "/none:" + empty + "/gone",
			"$KUBECONFIG " + empty + "/none:" + empty + "/gone names no file that exists: set KUBECONFIG to a kubeconfig of the cluster, or pass --kubeconfig"},
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

// TestKubeconfigWithoutHome: with $HOME unset or empty (a cron job, a
// systemd service), ~/.kube/config is not ".kube/config" of the current
// folder: a kubeconfig there (in /tmp, anyone's) could name any server and
// an exec credential plugin that client-go would run as root.
func TestKubeconfigWithoutHome(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := time.Now()
	cwd := t.TempDir()
	kc := n.APIKubeconfig(t, "https://192.0.2.7:6443", pki.NewValidity(now, time.Hour, time.Hour))
	if err := os.MkdirAll(filepath.Join(cwd, ".kube"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(kc, filepath.Join(cwd, ".kube", "config")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(cwd)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", "")
	c, err := New(Options{KubeconfigDir: t.TempDir(), Now: func() time.Time { return now }})
	if err == nil {
		t.Fatalf("New with $HOME unset used %s, want no ~/.kube/config", c.Source)
	}
	treetest.ErrMentions(t, err, "no $KUBECONFIG or ~/.kube/config")
}

// TestNewTellsFlagAsCheckFlag: a --kubeconfig that is missing is told as
// CheckFlag tells it ("read --kubeconfig PATH: ..."), whichever of the two
// meets it first; New said "load kubeconfig PATH: stat PATH: ..." to
// certs download and check-expiration --cluster. A file found another way
// (Options.File: KUBECONFIG-DIR/admin.conf for the kubeadm-config read)
// is not the flag, which was not given, and is named as a file.
func TestNewTellsFlagAsCheckFlag(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.conf")
	t.Setenv("KUBECONFIG", "")
	for _, tc := range []struct {
		name     string
		o        Options
		want     string
		flagFree bool // the error names no --kubeconfig PATH
	}{
		{"--kubeconfig", Options{Kubeconfig: missing}, CheckFlag(missing).Error(), false},
		{"a file found", Options{File: missing}, "load kubeconfig " + missing + ": stat " + missing + ": no such file or directory", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.o)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want one starting %q", err, tc.want)
			}
			if tc.flagFree && strings.Contains(err.Error(), "--kubeconfig "+missing) {
				t.Errorf("error %v names --kubeconfig, not given", err)
			}
		})
	}
}
