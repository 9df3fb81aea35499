package renew

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestInstallTimerRefusesAMaskedUnit: `systemctl mask certctl-renew.timer`
// (a link to /dev/null) is how an SRE stops the daily renewal on purpose,
// during maintenance or a CA rotation. install-timer wrote the unit over
// the link and so unmasked it silently; it now refuses, naming the unit
// and the unmask, and writes nothing. --dry-run warns of it.
func TestInstallTimerRefusesAMaskedUnit(t *testing.T) {
	for _, masked := range []string{ServiceName, TimerName} {
		t.Run(masked, func(t *testing.T) {
			units := t.TempDir()
			link := filepath.Join(units, masked)
			if err := os.Symlink(os.DevNull, link); err != nil {
				t.Fatal(err)
			}
			before := treetest.Snapshot(t, units)
			var out, errOut bytes.Buffer
			tm := Timer{UnitDir: units, NodeName: "cp-1", Stagger: DefaultStagger, CertctlPath: DefaultCertctlPath, Out: &out, ErrOut: &errOut}
			err := InstallTimer(tm)
			treetest.ErrMentions(t, err, link, "masked", "systemctl unmask "+masked, "nothing was written")
			treetest.AssertSame(t, before, treetest.Snapshot(t, units))
			if target, err := os.Readlink(link); err != nil || target != os.DevNull {
				t.Errorf("%s is no longer masked: %q, %v", link, target, err)
			}
			tm.DryRun = true
			errOut.Reset()
			if err := InstallTimer(tm); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(errOut.String(), "[warning] "+link+" is masked") {
				t.Errorf("--dry-run did not warn of the masked unit:\n%s", errOut.String())
			}
		})
	}
}
