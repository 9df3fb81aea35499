package renew

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/refused"
	"github.com/certctl/certctl/manifests/staticpods"
)

// lockedBuffer is an io.Writer the test reads while Run writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestInterruptedRestartWait: a signal (the context) while renew waits for
// kube-apiserver to come back with its new certificate ends the run at
// once with an exitcode.Changed that says the renewal was installed and
// that kube-apiserver must still be restarted, not "nothing was changed";
// the restart stays owed for the next run.
func TestInterruptedRestartWait(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	manifests := n.Path("manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	// A port nothing listens on: the wait can only end by the timeout or
	// the context.
	_, port, _ := net.SplitHostPort(refused.Addr(t))
	manifest := fmt.Sprintf(`apiVersion: v1
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
    - --secure-port=%s
    - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt
    image: registry.k8s.io/kube-apiserver:v1.37.1
    name: kube-apiserver
    volumeMounts:
    - {mountPath: /etc/kubernetes/pki, name: k8s-certs, readOnly: true}
  hostNetwork: true
  volumes:
  - hostPath: {path: %s, type: DirectoryOrCreate}
    name: k8s-certs
`, port, n.Cluster.CertificatesDir)
	if err := os.WriteFile(n.Path("manifests/kube-apiserver.yaml"), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out lockedBuffer
	var errOut bytes.Buffer
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"},
		Restart: Restart{Enabled: true, ManifestDir: manifests, Timeout: time.Hour},
		Now:     func() time.Time { return pkitest.Made.Add(time.Hour) }, Out: &out, ErrOut: &errOut}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out.String(), "waiting up to 1h0m0s for the kubelet") {
		select {
		case err := <-done:
			t.Fatalf("Run returned before the restart wait: %v\n%s%s", err, out.String(), errOut.String())
		case <-deadline:
			t.Fatalf("no restart wait:\n%s", out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	var err2 error
	select {
	case err2 = <-done:
	case <-time.After(time.Second):
		t.Fatal("Run did not return within 1s of the cancellation")
	}
	var changed *exitcode.Changed
	if !errors.As(err2, &changed) || !errors.Is(err2, context.Canceled) {
		t.Fatalf("err = %v (%T), want an exitcode.Changed wrapping context.Canceled", err2, err2)
	}
	for _, want := range []string{"installed (apiserver)", "kube-apiserver must still be restarted", "--restart-control-plane"} {
		if !strings.Contains(changed.Done, want) {
			t.Errorf("%q does not say %q", changed.Done, want)
		}
	}
	path, err := staticpods.PendingPath(n.Cluster.CertificatesDir)
	if err != nil {
		t.Fatal(err)
	}
	owed, err := staticpods.LoadPending(path)
	if err != nil || owed.Get("kube-apiserver") == nil {
		t.Errorf("kube-apiserver is not owed after the interruption: %v, %+v", err, owed)
	}
}
