package clusterview

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/exitcode"
)

// TestInterruptedIsNotAProblem: SIGTERM (systemd stopping the unit, a
// cron's `timeout`) cancels the check while it waits for handshakes. The
// rows it did not finish are not "unreachable" problems: the command
// prints no report, which would be false, and returns the interruption
// (status 130, docs/exit-codes.md), not status 3.
func TestInterruptedIsNotAProblem(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := Options{Client: fake.NewClientset(cpNode("cp-1", "127.0.0.1"), mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
		mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd)), CertDir: f.node.CertDir(), Now: now}
	var out bytes.Buffer
	err := Report(ctx, o, "json", &out)
	if !errors.Is(err, context.Canceled) || exitcode.Of(err) != exitcode.Interrupted {
		t.Errorf("exit %d (%v), want %d wrapping context.Canceled", exitcode.Of(err), err, exitcode.Interrupted)
	}
	if out.Len() != 0 {
		t.Errorf("an interrupted check printed a report:\n%s", out.String())
	}
}
