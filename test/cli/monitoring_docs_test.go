package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"sigs.k8s.io/yaml"
)

// TestMonitoringDocs runs docs/monitoring.md's cron line as written (with
// the textfile in a temporary folder) and checks that every metric its
// alert rules use is in the file, parsed with Prometheus's own parser.
func TestMonitoringDocs(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	// A problem and an owed restart, so that every series the rules use is there.
	if err := os.Remove(filepath.Join(n.certDir, "apiserver-kubelet-client.key")); err != nil {
		t.Fatal(err)
	}
	owed := `{"version": 1, "components": [{"component": "kube-apiserver", "files": ["` + filepath.Join(n.certDir, "apiserver.crt") + `"], "since": "2026-01-01T00:00:00Z"}]}`
	if err := os.WriteFile(filepath.Join(n.dir, ".certctl-restarts.json"), []byte(owed), 0o600); err != nil {
		t.Fatal(err)
	}

	cron := docBlockIn(t, "monitoring.md", "sh", "--textfile")
	m := regexp.MustCompile(`root /usr/local/bin/(certctl check-expiration .*?) >/dev/null`).FindStringSubmatch(cron)
	if m == nil {
		t.Fatalf("docs/monitoring.md's cron line has changed:\n%s", cron)
	}
	textfile := filepath.Join(t.TempDir(), "certctl.prom")
	args := strings.Fields(strings.Replace(m[1], "/var/lib/node_exporter/textfile/certctl.prom", textfile, 1))[1:]
	// The cron line ignores the status; a problem makes it 3.
	if r := runCode(t, bin, append(args, n.flags()...)...); r.code != 3 {
		t.Fatalf("certctl %s: exit %d, want 3 (a problem)\n%s%s", strings.Join(args, " "), r.code, r.out, r.errOut)
	}
	data, err := os.ReadFile(textfile)
	if err != nil {
		t.Fatal(err)
	}
	var p expfmt.TextParser
	families, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("node_exporter could not parse %s: %v\n%s", textfile, err, data)
	}

	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert, Expr string
			}
		}
	}
	if err := yaml.Unmarshal([]byte(docBlockIn(t, "monitoring.md", "yaml", "groups:")), &rules); err != nil {
		t.Fatalf("docs/monitoring.md's alert rules: %v", err)
	}
	alerts := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts++
			for _, metric := range regexp.MustCompile(`certctl_[a-z_]+`).FindAllString(r.Expr, -1) {
				if families[metric] == nil {
					t.Errorf("alert %s uses %s, which check-expiration does not export:\n%s", r.Alert, metric, data)
				}
			}
		}
	}
	if alerts < 4 {
		t.Errorf("docs/monitoring.md has %d alert rules, want the expiry, expired, problem and restart-owed ones", alerts)
	}
}
