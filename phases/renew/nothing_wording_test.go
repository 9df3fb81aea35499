package renew

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestNothingToDoOneWording: every run that ends with status 2 ends its
// output with one line, "[renew] Nothing to do: WHY", and one fault has
// one WHY. A run whose due certificates another certctl renewed while it
// waited for the lock ended with "Nothing to renew: another certctl
// renewed everything ..." from the CAs on disk, and through the
// certificates API with "X: already installed by another run ...;
// nothing to do" and no last line at all.
func TestNothingToDoOneWording(t *testing.T) {
	const another = "[renew] Nothing to do: another certctl renewed them while this one waited for the lock\n"

	t.Run("nothing due", func(t *testing.T) {
		n := pkitest.NewNode(t, nil)
		var out bytes.Buffer
		o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, Threshold: true, IfExpiresWithin: 720 * time.Hour,
			Now: func() time.Time { return pkitest.Made.Add(time.Hour) }, Out: &out, ErrOut: &bytes.Buffer{}}
		err := Run(context.Background(), o)
		if exitcode.Of(err) != exitcode.NothingToDo || !strings.HasPrefix(lastOut(out.String()), "[renew] Nothing to do: no certificate expires within 720h0m0s; the first to expire is ") {
			t.Errorf("exit %d, last line %q", exitcode.Of(err), lastOut(out.String()))
		}
	})

	t.Run("renewed by another run from the CAs on disk", func(t *testing.T) {
		n := pkitest.NewNode(t, nil)
		l, err := lock.Beside(n.Cluster.CertificatesDir)
		if err != nil {
			t.Fatal(err)
		}
		h, err := lock.AcquireWait(context.Background(), l, lock.Wait{})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Release()
		// The clock stands for the other run's renewal: due at the first
		// look, before the lock; not due any more at the second, under it.
		var renewed atomic.Bool
		now := func() time.Time {
			if renewed.Load() {
				return pkitest.Made.Add(time.Hour)
			}
			return pkitest.Made.Add(350 * 24 * time.Hour)
		}
		var out lockedBuffer
		o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, Threshold: true, IfExpiresWithin: 720 * time.Hour,
			LockTimeout: time.Minute, Now: now, Out: &out, ErrOut: &bytes.Buffer{}}
		done := make(chan error, 1)
		go func() { done <- Run(context.Background(), o) }()
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "holds the lock"); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the run did not wait for the lock:\n%s", out.String())
			}
		}
		renewed.Store(true)
		h.Release()
		err = <-done
		if exitcode.Of(err) != exitcode.NothingToDo || !strings.HasSuffix(out.String(), another) {
			t.Errorf("exit %d (%v), want 2 and the last line %q:\n%s", exitcode.Of(err), err, another, out.String())
		}
	})

	t.Run("installed by another run through the API", func(t *testing.T) {
		var out bytes.Buffer
		r := &run{o: Options{Threshold: true, Out: &out}, summary: newSummary(pkitest.Made, 720*time.Hour)}
		err := r.settle(fmt.Errorf("apiserver: %w", errAlreadyInstalled))
		if exitcode.Of(err) != exitcode.NothingToDo || out.String() != another {
			t.Errorf("exit %d, output %q; want 2 and %q", exitcode.Of(err), out.String(), another)
		}
	})
}

func lastOut(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
