package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
)

func TestRandomDelay(t *testing.T) {
	d, err := randomDelay(bytes.NewReader([]byte{0, 0, 0, 0, 0, 0, 0, 90}), 60*time.Nanosecond)
	if err != nil || d != 30 {
		t.Errorf("randomDelay = %v, %v; want 30ns", d, err)
	}
	for range 100 {
		d, err := randomDelay(bytes.NewReader(bytes.Repeat([]byte{0xff}, 8)), time.Hour)
		if err != nil || d < 0 || d >= time.Hour {
			t.Fatalf("randomDelay = %v, %v", d, err)
		}
	}
	if _, err := randomDelay(bytes.NewReader(nil), time.Hour); err == nil {
		t.Error("no error from an empty reader")
	}
}

// --use-api's progress must not corrupt -o json on stdout nor break --quiet.
func TestProgressOut(t *testing.T) {
	var stdout, stderr bytes.Buffer
	tests := []struct {
		name        string
		quiet, json bool
		want        *bytes.Buffer // nil: discarded
	}{
		{"text", false, false, &stdout},
		{"json", false, true, &stderr},
		{"quiet", true, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout.Reset()
			stderr.Reset()
			o := Options{Quiet: tt.quiet, Out: &stdout, ErrOut: &stderr}
			if tt.json {
				o.Format = output.Format{Name: "json"}
			}
			r := &run{o: o}
			fmt.Fprint(r.progressOut(), "waiting for CSR")
			for _, b := range []*bytes.Buffer{&stdout, &stderr} {
				if got := b.Len() > 0; got != (b == tt.want) {
					t.Errorf("buffer written = %v, want %v", got, b == tt.want)
				}
			}
		})
	}
}

// TestAlreadyInstalled: a run whose certificates another run installed
// ends as a run with nothing renewed: exit status 2 with
// --if-expires-within, else 0, and nothing printed as an error.
func TestAlreadyInstalled(t *testing.T) {
	for threshold, want := range map[bool]int{true: exitcode.NothingToDo, false: 0} {
		r := &run{o: Options{Threshold: threshold, Out: io.Discard}, summary: newSummary(time.Now(), 0)}
		err := r.settle(fmt.Errorf("install: %w", errAlreadyInstalled))
		if exitcode.Of(err) != want || (err != nil && err.Error() != "") {
			t.Errorf("threshold %v: %v (exit status %d), want a silent exit status %d", threshold, err, exitcode.Of(err), want)
		}
		s := r.summary
		s.end(time.Now(), err)
		if s.Status != statusNothingToDo || s.ExitCode != want || s.Error != "" {
			t.Errorf("threshold %v: -o json status %q, exit code %d, error %q; want %q, %d and no error", threshold, s.Status, s.ExitCode, s.Error, statusNothingToDo, want)
		}
	}
}

// TestWithinZero: --if-expires-within 0s renews only what has expired,
// which a clock moved past a 1s certificate shows without sleeping.
func TestWithinZero(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := pkitest.Made.Add(time.Hour)
	var out, errOut bytes.Buffer
	opts := func(validity time.Duration, threshold bool, args ...string) Options {
		c := *n.Cluster
		c.CertificateValidity = validity
		out.Reset()
		return Options{Cluster: &c, KubeconfigDir: n.Dir, Args: args, Threshold: threshold, Format: output.Format{Name: "json"},
			Now: func() time.Time { return now }, Out: &out, ErrOut: &errOut}
	}
	if err := Run(context.Background(), opts(n.Cluster.CertificateValidity, true, "all")); exitcode.Of(err) != exitcode.NothingToDo {
		t.Fatalf("nothing expired: exit %d (%v), want 2", exitcode.Of(err), err)
	}
	if err := Run(context.Background(), opts(time.Second, false, "apiserver")); err != nil {
		t.Fatal(err, errOut.String())
	}
	now = now.Add(2 * time.Second)
	err := Run(context.Background(), opts(n.Cluster.CertificateValidity, true, "all"))
	var s Summary
	if jerr := json.Unmarshal(out.Bytes(), &s); jerr != nil {
		t.Fatal(jerr)
	}
	if err != nil || len(s.Renewed) != 1 || s.Renewed[0].Name != "apiserver" || len(s.Skipped) != 10 {
		t.Errorf("one expired: %v, summary %+v", err, s)
	}
}
