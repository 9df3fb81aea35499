package renew

import (
	"testing"

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
