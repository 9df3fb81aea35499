package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/manifests/staticpods"
)

// TestOwedWhileAnotherRunHoldsTheLock: a plain threshold run while another
// run holds the lock (waiting for etcd to come back, say) warned that
// etcd "must still be restarted ... (a run with --restart-control-plane
// could not do it)", of a restart that run was doing at that moment. It
// now names the holder and says how to know once it is done; without a
// holder the warning is as before.
func TestOwedWhileAnotherRunHoldsTheLock(t *testing.T) {
	for _, held := range []bool{true, false} {
		n := pkitest.NewNode(t, nil)
		path, err := staticpods.PendingPath(n.Cluster.CertificatesDir)
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(staticpods.Pending{Version: 1, Components: []staticpods.PendingComponent{
			{Component: "etcd", Manifest: n.Path("manifests/etcd.yaml"), Files: []string{n.Path("pki/etcd/server.crt")}, Since: pkitest.Made.Add(time.Hour)}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if held {
			l, err := lock.Beside(n.Cluster.CertificatesDir)
			if err != nil {
				t.Fatal(err)
			}
			h, err := lock.AcquireWait(context.Background(), l, lock.Wait{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { h.Release() })
		}
		var out, errOut bytes.Buffer
		o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, Threshold: true, IfExpiresWithin: 720 * time.Hour,
			LockTimeout: time.Millisecond, Now: func() time.Time { return pkitest.Made.Add(2 * time.Hour) }, Out: &out, ErrOut: &errOut}
		err = Run(context.Background(), o)
		var ec *exitcode.Error
		if !errors.As(err, &ec) || ec.Code != exitcode.NothingToDo {
			t.Errorf("held %v: Run = %v, want nothing to do\n%s%s", held, err, out.String(), errOut.String())
		}
		got := out.String()
		if !strings.Contains(got, "[warning] etcd must still be restarted") {
			t.Errorf("held %v: no warning of the owed restart:\n%s", held, got)
		}
		couldNot := strings.Contains(got, "could not do it")
		names := strings.Contains(got, "pid "+strconv.Itoa(os.Getpid())) && strings.Contains(got, "is restarting them now")
		if held && (couldNot || !names) || !held && (!couldNot || names) {
			t.Errorf("held %v: warning:\n%s", held, got)
		}
	}
}
