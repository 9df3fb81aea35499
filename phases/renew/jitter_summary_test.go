package renew

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestJitterSecondsWhenInterrupted: a run interrupted (SIGTERM, the
// context) during its --jitter wait still reports, in the -o json summary,
// the jitter it had chosen and announced on its "[jitter] waiting" line,
// not 0, which reads as "no jitter was asked for".
func TestJitterSecondsWhenInterrupted(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	// randomDelay reads 8 bytes, big-endian, modulo --jitter.
	want := 1234 * time.Second
	var rnd [8]byte
	binary.BigEndian.PutUint64(rnd[:], uint64(want))
	for _, interrupted := range []bool{true, false} {
		var out, errOut bytes.Buffer
		o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, Jitter: time.Hour,
			Threshold: true, IfExpiresWithin: 24 * time.Hour, Format: output.Format{Name: "json"},
			Rand: bytes.NewReader(rnd[:]), Now: func() time.Time { return pkitest.Made.Add(time.Hour) },
			Sleep: func(ctx context.Context, d time.Duration) error {
				if d != want {
					t.Errorf("slept %v, want %v", d, want)
				}
				if interrupted {
					return context.Canceled
				}
				return nil
			},
			Out: &out, ErrOut: &errOut}
		err := Run(context.Background(), o)
		if interrupted != errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted %v: err = %v", interrupted, err)
		}
		var s struct {
			JitterSeconds float64 `json:"jitterSeconds"`
		}
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatalf("%v:\n%s", err, out.String())
		}
		if s.JitterSeconds != want.Seconds() {
			t.Errorf("interrupted %v: jitterSeconds = %v, want the chosen %v", interrupted, s.JitterSeconds, want.Seconds())
		}
	}
}
