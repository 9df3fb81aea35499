package renew

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/manifests/staticpods"
)

// killOn is an io.Writer that stops the goroutine writing to it, as a
// SIGKILL stops the process, once what was written contains text: the
// goroutine's deferred calls run (the lock is released), nothing else of
// the run does.
type killOn struct {
	mu   sync.Mutex
	b    bytes.Buffer
	text string
}

func (k *killOn) Write(p []byte) (int, error) {
	k.mu.Lock()
	k.b.Write(p)
	hit := strings.Contains(k.b.String(), k.text)
	k.mu.Unlock()
	if hit {
		runtime.Goexit()
	}
	return len(p), nil
}

// owedRuns are the runs that owe restarts, on owedNode's node with its
// options: `renew apiserver --restart-control-plane`, and `restore latest
// --restart-control-plane` of a renewal of apiserver. committed is the
// first line each prints after its commit; start makes what the run
// needs and returns it.
var owedRuns = []struct {
	name, committed string
	start           func(t *testing.T, o Options) func(context.Context, Options) error
}{
	{"renew", "[backup] The old files are saved in", func(*testing.T, Options) func(context.Context, Options) error {
		return Run
	}},
	{"restore", "[backup] The files the restore replaces are saved in", func(t *testing.T, o Options) func(context.Context, Options) error {
		o.Restart.Enabled, o.Out = false, &bytes.Buffer{}
		if err := Run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		return func(ctx context.Context, o Options) error { return Restore(ctx, o, "latest") }
	}},
}

// TestKillAfterCommitKeepsRestartsOwed: a `renew --restart-control-plane`
// killed after its renewal committed, before it wrote down the restarts
// it owed, left kube-apiserver on its old certificates with nothing to say
// so: the next cron run found nothing due and nothing owed.
// The record is now written in the renewal's transaction when there is
// none yet (oweInTxn). `restore --restart-control-plane` did the same
// until it wrote the record in the restore's transaction too.
func TestKillAfterCommitKeepsRestartsOwed(t *testing.T) {
	for _, tc := range owedRuns {
		t.Run(tc.name, func(t *testing.T) {
			n, o := owedNode(t)
			run := tc.start(t, o)
			// The first line after the commit.
			out := &killOn{text: tc.committed}
			o.Out = out
			done := make(chan error, 1)
			go func() {
				defer close(done)
				done <- run(context.Background(), o)
			}()
			if err, ended := <-done; ended {
				t.Fatalf("the run ended (%v) before the line it is killed on:\n%s", err, out.b.String())
			}
			pending, err := staticpods.PendingPath(n.Cluster.CertificatesDir)
			if err != nil {
				t.Fatal(err)
			}
			if owed, err := staticpods.LoadPending(pending); err != nil || owed.Get("kube-apiserver") == nil {
				t.Errorf("apiserver.crt was renewed, but after the kill kube-apiserver is not owed a restart (%v, %+v): no later run restarts it, nor says it must be", err, owed)
			}
		})
	}
}

// TestOwnRestartsNotFromEarlierRun: the restarts a run records in its own
// transaction are not said to be owed "by an earlier run".
func TestOwnRestartsNotFromEarlierRun(t *testing.T) {
	for _, tc := range owedRuns {
		t.Run(tc.name, func(t *testing.T) {
			_, o := owedNode(t)
			run := tc.start(t, o)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := &cancelOn{text: tc.committed, cancel: cancel}
			o.Out = out
			_ = run(ctx, o) // interrupted before its restarts, which stay owed
			if strings.Contains(out.b.String(), "by an earlier run") {
				t.Errorf("a run says its own restarts are owed by an earlier run:\n%s", out.b.String())
			}
		})
	}
}

// owedNode is a node with kube-apiserver's manifest, and the options of
// `renew apiserver --restart-control-plane` on it.
func owedNode(t *testing.T) (*pkitest.Node, Options) {
	t.Helper()
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
	if err := os.WriteFile(n.Path("manifests/kube-apiserver.yaml"), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	return n, Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"},
		Restart: Restart{Enabled: true, ManifestDir: manifests, Timeout: time.Hour},
		Now:     func() time.Time { return pkitest.Made.Add(time.Hour) }, ErrOut: &bytes.Buffer{}}
}
