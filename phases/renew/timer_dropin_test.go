package renew

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInstallTimerWarnsOfADropInThatOverrides: docs/cron.md has the SRE add
// renew flags with `systemctl edit certctl-renew.service`, a drop-in that
// replaces ExecStart=; a later install-timer with another --cert-dir,
// --config or --kubeconfig-dir rewrote the unit's ExecStart, which the
// drop-in overrides: the new flags were never used, and nothing said so.
// The same for a timer drop-in's OnCalendar= and --schedule, --offset or
// --stagger. install-timer now names the drop-in and the setting, in both
// modes; a drop-in that sets neither, or only comments it out, is not
// warned of.
func TestInstallTimerWarnsOfADropInThatOverrides(t *testing.T) {
	for _, tc := range []struct {
		name, unit, dropIn, want string
	}{
		{"service ExecStart", ServiceName, "[Service]\nExecStart=\nExecStart=/usr/local/bin/certctl renew all --if-expires-within 720h --restart-control-plane --keep-backups 30\n", "ExecStart="},
		{"timer OnCalendar", TimerName, "[Timer]\nOnCalendar=\n  OnCalendar=*-*-* 03:00:00\n", "OnCalendar="},
		{"service without ExecStart", ServiceName, "[Service]\nTimeoutStartSec=2h\n", ""},
		{"commented out", ServiceName, "[Service]\n# ExecStart=/usr/local/bin/certctl renew all\n;ExecStart=\n", ""},
		{"timer without OnCalendar", TimerName, "[Timer]\nRandomizedDelaySec=5m\n", ""},
	} {
		for _, dry := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "", true: " dry-run"}[dry], func(t *testing.T) {
				units := t.TempDir()
				dropIn := filepath.Join(units, tc.unit+".d", "override.conf")
				if err := os.MkdirAll(filepath.Dir(dropIn), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dropIn, []byte(tc.dropIn), 0o644); err != nil {
					t.Fatal(err)
				}
				var out, errOut bytes.Buffer
				off := 20 * time.Minute
				tm := Timer{UnitDir: units, Offset: &off, CertctlPath: DefaultCertctlPath, CertDir: "/srv/k8s/pki", DryRun: dry, Out: &out, ErrOut: &errOut}
				if err := InstallTimer(tm); err != nil {
					t.Fatal(err)
				}
				var warned []string
				for _, l := range strings.Split(errOut.String(), "\n") {
					if strings.HasPrefix(l, "[warning] "+dropIn) {
						warned = append(warned, l)
					}
				}
				if tc.want == "" {
					if len(warned) > 0 {
						t.Errorf("warned of a drop-in that overrides nothing install-timer writes:\n%s", errOut.String())
					}
					return
				}
				if len(warned) != 1 {
					t.Fatalf("want one warning naming %s; got:\n%s", dropIn, errOut.String())
				}
				for _, w := range []string{"sets " + tc.want, "systemctl edit " + tc.unit} {
					if !strings.Contains(warned[0], w) {
						t.Errorf("the warning does not say %q:\n%s", w, warned[0])
					}
				}
			})
		}
	}
}
