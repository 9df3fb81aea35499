package carotate

import (
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestReissueWarnsOnce: reissue runs the renewal engine twice, in its check
// pass and in its real pass, and each printed the engine's warnings, so
// every "would outlive its CA" line came twice. Each must come once, in
// the real run as in the dry run.
func TestReissueWarnsOnce(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.CAName, func(o *Options) { o.CAValidity = 24 * time.Hour })
	crt := pki.Store{Dir: f.node.CertDir()}.CertPath("apiserver")
	for _, dry := range []bool{true, false} {
		out, err := rotateOut(f, pki.CAName, func(o *Options) { o.DryRun = dry })
		if err != nil {
			t.Fatalf("reissue (dry run %v): %v\n%s", dry, err, out)
		}
		if n := strings.Count(out, "[warning] "+crt+" would outlive its CA"); n != 1 {
			t.Errorf("reissue (dry run %v) warns %d times that %s would outlive its CA, want once:\n%s", dry, n, crt, out)
		}
	}
}
