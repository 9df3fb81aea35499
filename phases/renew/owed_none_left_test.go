package renew

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/manifests/staticpods"
)

// TestRetryWithNoneOwedSaysSo: a run with nothing due that only retries
// the restarts an earlier run left owed, and finds none owed once it holds
// the lock, said "[restart] Nothing to restart: no static pod manifest in
// DIR names the replaced files", of files it never replaced. It now says
// what happened: the restart was dropped (the warning says why), or
// another certctl run made it while this one waited for the lock.
func TestRetryWithNoneOwedSaysSo(t *testing.T) {
	const stale = "names the replaced files"
	owe := func(t *testing.T, n *pkitest.Node) string {
		t.Helper()
		path, err := staticpods.PendingPath(n.Cluster.CertificatesDir)
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(staticpods.Pending{Version: 1, Components: []staticpods.PendingComponent{
			{Component: "kube-apiserver", Manifest: n.Path("manifests/kube-apiserver.yaml"), Files: []string{n.Path("pki/apiserver.crt")}, Since: pkitest.Made.Add(time.Minute), Reason: "not reachable"}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}

	t.Run("dropped", func(t *testing.T) {
		n, o := owedNode(t)
		owe(t, n)
		manifest := n.Path("manifests/kube-apiserver.yaml")
		m, err := os.ReadFile(manifest)
		if err != nil {
			t.Fatal(err)
		}
		moved := strings.ReplaceAll(strings.ReplaceAll(string(m), n.Cluster.CertificatesDir, "/srv/elsewhere/pki"), "/etc/kubernetes/pki", "/srv/elsewhere/pki")
		if err := os.WriteFile(manifest, []byte(moved), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut lockedBuffer
		o.Out, o.ErrOut, o.Threshold, o.IfExpiresWithin, o.Format = &out, &errOut, true, 720*time.Hour, output.Format{}
		err = Run(context.Background(), o)
		if code := exitcode.Of(err); code != exitcode.NothingToDo {
			t.Fatalf("exit %d (%v), want 2\n%s%s", code, err, out.String(), errOut.String())
		}
		want := "[restart] Nothing to restart: kube-apiserver no longer owed, as said above"
		if got := out.String(); strings.Contains(got, stale) || !strings.Contains(got, want) {
			t.Errorf("stdout does not say %q (or says %q):\n%s", want, stale, got)
		}
	})

	t.Run("made by another run", func(t *testing.T) {
		n, o := owedNode(t)
		path := owe(t, n)
		// Another run holds the lock, restarts kube-apiserver and
		// clears the record before it lets this one in.
		l, err := lock.Beside(n.Cluster.CertificatesDir)
		if err != nil {
			t.Fatal(err)
		}
		h, err := lock.AcquireWait(context.Background(), l, lock.Wait{})
		if err != nil {
			t.Fatal(err)
		}
		var out, errOut lockedBuffer
		o.Out, o.ErrOut, o.Threshold, o.IfExpiresWithin, o.Format = &out, &errOut, true, 720*time.Hour, output.Format{}
		o.LockTimeout = time.Minute
		done := make(chan error, 1)
		go func() { done <- Run(context.Background(), o) }()
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(out.String()+errOut.String(), "holds the lock") {
			if time.Now().After(deadline) {
				h.Release()
				t.Fatalf("the run did not wait for the lock:\n%s%s", out.String(), errOut.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		h.Release()
		err = <-done
		if code := exitcode.Of(err); code != exitcode.NothingToDo {
			t.Fatalf("exit %d (%v), want 2\n%s%s", code, err, out.String(), errOut.String())
		}
		want := "[restart] Nothing to restart: kube-apiserver, owed when this run began, no longer owed: another certctl run restarted them"
		if got := out.String(); strings.Contains(got, stale) || !strings.Contains(got, want) {
			t.Errorf("stdout does not say %q (or says %q):\n%s", want, stale, got)
		}
	})
}
