package renew

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/certctl/certctl/internal/exitcode"
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
	n, o := owedNode(t)
	path := n.Path("manifests/kube-apiserver.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	manifest := string(data)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelOn{text: "[backup] The old files are saved in", cancel: cancel}
	var errOut bytes.Buffer
	o.Out, o.ErrOut = out, &errOut
	err = Run(ctx, o)
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
