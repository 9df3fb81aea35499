package staticpods

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestSkippedAfterSignalLooksUpNoListener: once the run is interrupted, the
// components Restart skips are not looked up on their ports. Each lookup
// reads /proc/net/tcp: on a node with many connections, `ca rotate
// --restart-control-plane` stopped by SIGTERM made three (kube-apiserver's,
// then the two it skipped), went past interrupt.Grace and was ended by the
// watchdog, whose line does not say that the stage was made nor what to run
// (TestSignalDuringRotationRestarts in test/cli, under load). Before a
// signal a skipped component's process is still recorded
// (TestRestartedSince).
func TestSkippedAfterSignalLooksUpNoListener(t *testing.T) {
	oldCert, newCert := newCert(t, 1001), newCert(t, 2002)
	n := newNode(t, oldCert)
	n.writeCert(t, "apiserver.crt", newCert)
	set, err := Load(n.manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	affected := set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt"), "/etc/kubernetes/controller-manager.conf", "/etc/kubernetes/scheduler.conf"})
	if len(affected) != 3 || affected[1].Port == 0 || affected[2].Port == 0 {
		t.Fatalf("affected %+v, want kube-apiserver and two more components with a port", affected)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the signal
	var looked []string
	o := Options{Timeout: time.Second, Poll: 20 * time.Millisecond, Now: fixedNow,
		ListenerPID: func(host string, port int) (int, error) {
			for _, a := range affected {
				if a.Port == port {
					looked = append(looked, a.Component)
				}
			}
			return 100, nil
		}}
	results, err := Restart(ctx, affected, o)
	if !errors.Is(err, context.Canceled) || len(results) != 3 || results[1].Status != Skipped || results[2].Status != Skipped {
		t.Fatalf("err %v, results %+v; want context.Canceled, the last two skipped", err, results)
	}
	for _, c := range looked {
		if c != affected[0].Component {
			t.Errorf("looked up %s's listener after the signal (lookups: %q); want only %s's, the restart interrupted", c, looked, affected[0].Component)
		}
	}
	if results[1].OldPID != 0 || results[2].OldPID != 0 {
		t.Errorf("skipped components recorded processes %d and %d, found after the signal", results[1].OldPID, results[2].OldPID)
	}
}
