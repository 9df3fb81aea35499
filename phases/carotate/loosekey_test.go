package carotate

import (
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/pki"
)

// TestLooseOldCAKeyWarned: the old CA's key signs until reissue, and trust
// read it without a word when group or others could read it, as
// init-phase and renew warn (pki.LoadedCA.LooseKey). Trust, its dry run
// too, warns once, naming the file and the chmod to run; a key at 0600 is
// not warned of.
func TestLooseOldCAKeyWarned(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode os.FileMode
		warn bool
	}{
		{"0644", 0o644, true},
		{"0640", 0o640, true},
		{"0600", 0o600, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			p := k(t, pki.CAName).paths(f.node.CertDir())
			if err := os.Chmod(p.Key, tc.mode); err != nil {
				t.Fatal(err)
			}
			for _, dry := range []bool{true, false} {
				out, err := rotateOut(f, pki.CAName, func(o *Options) { o.DryRun = dry })
				if err != nil {
					t.Fatalf("trust (dry run %v): %v\n%s", dry, err, out)
				}
				n := strings.Count(out, "[warning] "+p.Key+" holds a private key")
				if want := map[bool]int{true: 1, false: 0}[tc.warn]; n != want || tc.warn && !strings.Contains(out, "chmod 600 "+p.Key) {
					t.Errorf("trust (dry run %v) with %s at %s: %d warnings naming it, want %d with the chmod:\n%s", dry, p.Key, tc.name, n, want, out)
				}
			}
		})
	}
}
