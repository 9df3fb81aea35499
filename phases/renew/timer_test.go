package renew

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

// TestExecPath: certctl's path is one ExecStart word that systemd reads
// back as the same path (test/cli runs systemd-analyze verify on it), and
// a path systemd would refuse is refused with the reason.
func TestExecPath(t *testing.T) {
	for _, tc := range []struct {
		name, path, want, err string
	}{
		{"plain", "/usr/local/bin/certctl", "/usr/local/bin/certctl", ""},
		{"space", "/tmp/my bin/certctl", `"/tmp/my bin/certctl"`, ""},
		{"specifier", "/opt/100%h/certctl", "/opt/100%%h/certctl", ""},
		{"space and specifier", "/opt/a b%/certctl", `"/opt/a b%%/certctl"`, ""},
		// The executable is not subject to $ expansion (systemd.service(5)).
		{"dollar", "/opt/a$HOME/certctl", "/opt/a$HOME/certctl", ""},
		{"semicolon", "/opt/a;b/certctl", `"/opt/a;b/certctl"`, ""},
		{"cleaned", "/usr/local/bin/../bin/certctl/", "/usr/local/bin/certctl", ""},
		{"relative", "bin/certctl", "", "must be absolute"},
		{"double quote", `/opt/a"b/certctl`, "", `contains "\""`},
		{"single quote", "/opt/a'b/certctl", "", "contains \"'\""},
		{"backslash", `/opt/a\b/certctl`, "", `contains "\\"`},
		{"newline", "/opt/a\nb/certctl", "", `contains "\n"`},
		{"tab", "/opt/a\tb/certctl", "", `contains "\t"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := execPath(tc.path)
			if tc.err != "" {
				treetest.ErrMentions(t, err, "--certctl-path", tc.err)
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("execPath(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestTimerUnits: the units for each set of install-timer's flags, kept in
// testdata/timer/NAME.service and NAME.timer (-update rewrites them).
func TestTimerUnits(t *testing.T) {
	twenty := 20 * time.Minute
	for _, tc := range []struct {
		name string
		t    Timer
	}{
		{"default", Timer{CertctlPath: DefaultCertctlPath, NodeName: "cp-1", Stagger: DefaultStagger}},
		{"folders", Timer{CertctlPath: "/opt/my bin/certctl", ConfigFile: "/etc/kubernetes/kubeadm 1.yaml", CertDir: "/srv/k8s/pki%", KubeconfigDir: "/srv/k8s$",
			Schedule: "Mon..Fri *-*-* 02:30", NodeName: "cp-2", Stagger: DefaultStagger}},
		{"offset", Timer{CertctlPath: DefaultCertctlPath, Schedule: "weekly", Offset: &twenty}},
		{"no stagger", Timer{CertctlPath: DefaultCertctlPath, ConditionCertDir: "/srv/pki", Schedule: "*-*-01 04:00:00", NodeName: "cp-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			service, timer, err := tc.t.Units()
			if err != nil {
				t.Fatal(err)
			}
			base := filepath.Join("testdata", "timer", strings.ReplaceAll(tc.name, " ", "-"))
			for ext, got := range map[string]string{".service": service, ".timer": timer} {
				if *update {
					if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(base+ext, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(base + ext)
				if err != nil {
					t.Fatalf("%v (run with -update)", err)
				}
				if got != string(want) {
					t.Errorf("%s%s:\n%s\nwant:\n%s", base, ext, got, want)
				}
			}
		})
	}
}

// TestStagger: the node's offset moves the schedule's time of day, and a
// schedule it cannot move, or that the offset would move past midnight or
// the hour, is refused with the forms that work.
func TestStagger(t *testing.T) {
	for _, tc := range []struct {
		schedule string
		offset   time.Duration
		want     string
		err      string
	}{
		{"daily", 37 * time.Minute, "*-*-* 00:37:00", ""},
		{"", 0, "*-*-* 00:00:00", ""},
		{"weekly", time.Hour + 5*time.Minute, "Mon *-*-* 01:05:00", ""},
		{"monthly", 0, "*-*-01 00:00:00", ""},
		{"hourly", 59 * time.Minute, "*-*-* *:59:00", ""},
		{"Mon..Fri *-*-* 02:30", 45 * time.Minute, "Mon..Fri *-*-* 03:15:00", ""},
		{"Sat,Sun 23:10:30", 20 * time.Minute, "Sat,Sun 23:30:30", ""},
		{"2027-*-* 7:05", 0, "2027-*-* 07:05:00", ""},
		{"hourly", time.Hour, "", "must be under an hour"},
		{"*-*-* 23:30", 45 * time.Minute, "", "passes midnight"},
		{"*-*-* 02:00/15", 0, "", "not HH:MM[:SS]"},
		{"*-*-* 25:00", 0, "", "hours go from 0 to 23"},
		{"*-*-* 02:61", 0, "", "minutes and seconds go from 0 to 59"},
		{"Someday 02:00", 0, "", "neither weekdays"},
		{"minutely", 0, "", "use daily, weekly"},
		{"daily\nExecStart=/bin/sh", 0, "", "invalid --schedule"},
	} {
		t.Run(tc.schedule, func(t *testing.T) {
			got, err := Stagger(tc.schedule, tc.offset)
			if tc.err != "" {
				treetest.ErrMentions(t, err, tc.err)
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Stagger(%q, %v) = %q, %v; want %q", tc.schedule, tc.offset, got, err, tc.want)
			}
		})
	}
}

// TestOffset: a node's offset is the same at every install, within the
// window, in whole minutes, and the usual names of three control-plane
// nodes land at least 5 minutes apart (a restart takes well under that).
func TestOffset(t *testing.T) {
	for _, names := range [][]string{{"cp-1", "cp-2", "cp-3"}, {"master-0", "master-1", "master-2"}, {"k8s-cp-a", "k8s-cp-b", "k8s-cp-c"}} {
		var got []time.Duration
		for _, name := range names {
			o := Offset(name, time.Hour)
			if o != Offset(name, time.Hour) || o < 0 || o >= time.Hour || o%time.Minute != 0 {
				t.Errorf("Offset(%q) = %v", name, o)
			}
			for i, other := range got {
				d := (o - other + time.Hour) % time.Hour
				if d < 5*time.Minute || d > 55*time.Minute {
					t.Errorf("%s at %v and %s at %v: under 5 minutes apart", name, o, names[i], other)
				}
			}
			got = append(got, o)
		}
	}
	if Offset("cp-1", 0) != 0 || Offset("", time.Hour) != 0 {
		t.Error("no window or no name: no offset")
	}
}
