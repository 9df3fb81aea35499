package renew

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/manifests/staticpods"
)

// cancelOn is an io.Writer that cancels a context once what was written
// contains a text.
type cancelOn struct {
	mu     sync.Mutex
	b      bytes.Buffer
	text   string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.b.Write(p)
	if strings.Contains(c.b.String(), c.text) {
		c.cancel()
	}
	return len(p), nil
}

// TestSignalAfterCommitRestartsNothing: a SIGTERM (the context) that
// arrives while the renewal commits (the commit is not interruptible) must
// not be followed by new actions: the run annotated etcd's manifest after
// it, so that the kubelet restarted etcd after systemd had asked certctl to
// stop, and then said of every component owed that "their manifests are
// marked, so the kubelet restarts them", also of those it had not marked.
// The run now restarts nothing once interrupted, leaves every restart owed
// for the next run, and says so.
func TestSignalAfterCommitRestartsNothing(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	manifests := n.Path("manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := `apiVersion: v1
kind: Pod
metadata:
  labels: {component: kube-apiserver, tier: control-plane}
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-apiserver
    - --bind-address=127.0.0.1
    - --secure-port=1
    - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt
    image: registry.k8s.io/kube-apiserver:v1.37.1
    name: kube-apiserver
    volumeMounts:
    - {mountPath: /etc/kubernetes/pki, name: k8s-certs, readOnly: true}
  hostNetwork: true
  volumes:
  - hostPath: {path: ` + n.Cluster.CertificatesDir + `, type: DirectoryOrCreate}
    name: k8s-certs
`
	path := n.Path("manifests/kube-apiserver.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelOn{text: "[backup] The old files are saved in", cancel: cancel}
	var errOut bytes.Buffer
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"},
		Restart: Restart{Enabled: true, ManifestDir: manifests, Timeout: time.Hour},
		Now:     func() time.Time { return pkitest.Made.Add(time.Hour) }, Out: out, ErrOut: &errOut}
	err := Run(ctx, o)
	var changed *exitcode.Changed
	if !errors.As(err, &changed) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v (%T), want an exitcode.Changed wrapping context.Canceled\n%s", err, err, out.b.String())
	}
	if data, _ := os.ReadFile(path); string(data) != manifest {
		t.Errorf("the manifest was changed after the signal:\n%s", data)
	}
	if strings.Contains(out.b.String(), "certctl.io/restartedAt") {
		t.Errorf("a restart after the signal:\n%s", out.b.String())
	}
	for _, want := range []string{"installed (apiserver)", "kube-apiserver must still be restarted", "--restart-control-plane"} {
		if !strings.Contains(changed.Done, want) {
			t.Errorf("%q does not say %q", changed.Done, want)
		}
	}
	if strings.Contains(changed.Done, "manifests are marked") {
		t.Errorf("%q says the manifests are marked: none is", changed.Done)
	}
	pending, err := staticpods.PendingPath(n.Cluster.CertificatesDir)
	if err != nil {
		t.Fatal(err)
	}
	if owed, err := staticpods.LoadPending(pending); err != nil || owed.Get("kube-apiserver") == nil {
		t.Errorf("kube-apiserver is not owed after the interruption: %v, %+v", err, owed)
	}
}
