package staticpods

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestRestartNotReadyStaysOwed: a kube-apiserver that restarts and serves
// its new certificate but whose /readyz still fails when the wait ends
// counted as restarted: the run exited 0, the restart was no longer owed,
// and the Lease was freed for the next node to take its own kube-apiserver
// down. It is now a failure (NotReady, an error naming /readyz's answer),
// the turn is released as failed, the components after it are skipped,
// and the restart stays owed without the process seen (a new one with the
// new files), so that the next run restarts it again rather than take it
// for a restart made since.
func TestRestartNotReadyStaysOwed(t *testing.T) {
	oldCert, newCert := newCert(t, 1001), newCert(t, 2002)
	n := newHTTPNode(t, oldCert)
	n.writeCert(t, "apiserver.crt", newCert)
	set, err := Load(n.manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	changed := []string{filepath.Join(n.certDir, "apiserver.crt"), "/etc/kubernetes/scheduler.conf"}
	affected := set.Affected(changed)
	if len(affected) != 2 || affected[0].Component != pki.KubeAPIServer {
		t.Fatalf("affected: %+v", affected)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k := &kubelet{pids: map[int]int{}}
	k.watch(t, ctx, filepath.Join(n.manifestDir, "kube-apiserver.yaml"), n.port, func() { n.cert.Store(&newCert) }) // never ready
	var released []bool
	coordinate := func(context.Context, string) (func(bool), error) {
		return func(ok bool) { released = append(released, ok) }, nil
	}
	pending := &Pending{Version: pendingVersion, path: filepath.Join(t.TempDir(), PendingFileName)}
	for _, a := range affected {
		pending.Owe(a, fixedNow())
	}
	var out bytes.Buffer
	results, err := Restart(ctx, affected, Options{Timeout: 500 * time.Millisecond, Poll: 20 * time.Millisecond, Now: fixedNow, Out: &out,
		ListenerPID: k.listenerPID, Coordinate: coordinate, ReadyFor: 50 * time.Millisecond, Done: pending.Record})
	t.Logf("output:\n%s", out.String())
	if err == nil {
		t.Fatalf("Restart: no error; want one saying that kube-apiserver is not ready")
	}
	for _, want := range []string{"kube-apiserver serves its new certificate (pid 200, was 100) but is not ready after", "/readyz: 500 Internal Server Error [-]etcd failed: reason withheld", "the restart stays owed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if results[0].Status != NotReady || results[0].Status.OK() || results[1].Status != Skipped {
		t.Errorf("statuses %s, %s; want %s, %s", results[0].Status, results[1].Status, NotReady, Skipped)
	}
	if fmt.Sprint(released) != "[false]" {
		t.Errorf("turn released %v, want once, as failed", released)
	}
	c := pending.Get(pki.KubeAPIServer)
	if c == nil || c.OldPID != 0 || !strings.Contains(c.Reason, "not ready") {
		t.Fatalf("owed: %+v; want kube-apiserver owed, with no process seen and the reason", c)
	}
	// The next run finds the new process (200) on the port: it restarts
	// it again rather than take it for a restart made since.
	again, _ := set.AffectedWithPending(nil, pending)
	if len(again) == 0 || again[0].Component != pki.KubeAPIServer || again[0].OldPID != 0 {
		t.Errorf("the next run's restarts: %+v; want kube-apiserver, with no process seen", again)
	}
}
