package carotate

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestLostNewKeyAtReissueAborts: at stage reissue the new CA signs with
// the key file of the CA (ca.key), and the old key is beside it. With that
// key gone (no backup holds it: trust made it), finish, which keeps the new
// CA signing, cannot go on, but --abort re-issues every certificate with
// the old CA and drops the new one: it needs no more than the new CA's
// certificate. The abort failed with a bare "no such file" for ca.key, so
// the way out was by hand. It now goes back, and the refusal of finish says
// so.
func TestLostNewKeyAtReissueAborts(t *testing.T) {
	for _, name := range []string{pki.CAName, pki.SAName} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			p := k(t, name).paths(f.node.CertDir())
			f.rotate(t, name, nil)
			f.now = f.now.Add(time.Minute)
			f.rotate(t, name, nil)
			if err := os.Remove(p.Key); err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(2 * DefaultMaxTokenLifetime) // sa: finish waits for the tokens
			_, err := Rotate(context.Background(), name, f.options(nil))
			if err == nil || !strings.Contains(err.Error(), p.Key) || !strings.Contains(err.Error(), "--abort") {
				t.Fatalf("finish without %s: %v, want a refusal naming it and --abort", p.Key, err)
			}
			if got := problems(t, f, name); !strings.Contains(got, "--abort") {
				t.Errorf("ca status problems: %q, want the way out (--abort)", got)
			}
			var out bytes.Buffer
			rec, err := Rotate(context.Background(), name, f.options(func(o *Options) { o.Abort, o.Out = true, &out }))
			if err != nil {
				t.Fatalf("abort from reissue without %s: %v\n%s", p.Key, err, out.String())
			}
			if strings.Contains(out.String(), "for stage reissue again") || !strings.Contains(out.String(), "--abort --restarted") {
				t.Errorf("abort from reissue without the new key offers reissue again, which cannot sign, or not the abort:\n%s", out.String())
			}
			if rec.Stage != StageTrust || !rec.Aborting {
				t.Fatalf("abort from reissue left stage %q (aborting %v), want trust on the way back", rec.Stage, rec.Aborting)
			}
			f.now = f.now.Add(time.Minute)
			rec = f.rotate(t, name, func(o *Options) { o.Abort = true })
			if rec.Stage != StageAborted {
				t.Fatalf("second abort left stage %q", rec.Stage)
			}
			if got, err := trusted(k(t, name), p.Trust); err != nil || len(got) != 1 || got[0] != rec.OldCA {
				t.Errorf("%s after the abort holds %v (%v), want the old CA alone %s", p.Trust, got, err, rec.OldCA)
			}
			if got := problems(t, f, name); got != "" {
				t.Errorf("ca status after the abort: %q", got)
			}
		})
	}
}
