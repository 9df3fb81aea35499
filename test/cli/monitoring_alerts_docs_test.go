package cli

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"
)

// TestMonitoringDocsAlertAdvice: docs/monitoring.md's alert rules are
// well formed (an alert name, an expression, a `for` Prometheus reads, a
// severity, a summary), and their annotations, expanded as Prometheus
// expands them for each series of the certctl metrics their expression
// uses (with the scrape's instance and job labels), name only labels those
// series have; every certctl command an annotation tells the reader to run
// then works on that node (renew and ca rotate as a dry run): an alert
// must not send the SRE who gets it at night to a command that refuses
// (`certctl renew ca`, `certctl renew kubelet.conf`).
func TestMonitoringDocsAlertAdvice(t *testing.T) {
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	// A problem and an owed restart, so that every rule's series are
	// there; neither keeps renew from running.
	if err := os.Chmod(filepath.Join(n.certDir, "apiserver-kubelet-client.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	owed := `{"version": 1, "components": [{"component": "kube-apiserver", "files": ["` + filepath.Join(n.certDir, "apiserver.crt") + `"], "since": "2026-01-01T00:00:00Z"}]}`
	if err := os.WriteFile(filepath.Join(n.dir, ".certctl-restarts.json"), []byte(owed), 0o600); err != nil {
		t.Fatal(err)
	}
	// The node as it is, and as kube-apiserver with an external etcd
	// sees it (etcd.external's files: the rows external-etcd-client and
	// external-etcd-ca, which renew and ca rotate refuse).
	extConfig := filepath.Join(t.TempDir(), "external-etcd.yaml")
	ext := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\netcd:\n  external:\n    endpoints: [https://10.0.0.5:2379]\n" +
		"    caFile: " + filepath.Join(n.certDir, "etcd", "ca.crt") + "\n    certFile: " + filepath.Join(n.certDir, "apiserver-etcd-client.crt") +
		"\n    keyFile: " + filepath.Join(n.certDir, "apiserver-etcd-client.key") + "\n"
	if err := os.WriteFile(extConfig, []byte(ext), 0o600); err != nil {
		t.Fatal(err)
	}
	families := map[string]*dto.MetricFamily{}
	for _, config := range [][]string{nil, {"--config", extConfig}} {
		r := runCode(t, bin, append(append([]string{"check-expiration", "-o", "prometheus"}, n.flags()...), config...)...)
		if r.code != 3 {
			t.Fatalf("check-expiration -o prometheus %s: exit %d, want 3 (a problem)\n%s", strings.Join(config, " "), r.code, r.errOut)
		}
		var p expfmt.TextParser
		fs, err := p.TextToMetricFamilies(strings.NewReader(r.out))
		if err != nil {
			t.Fatal(err)
		}
		for name, f := range fs {
			if families[name] == nil {
				families[name] = f
			} else {
				families[name].Metric = append(families[name].Metric, f.GetMetric()...)
			}
		}
	}
	if !strings.Contains(fmt.Sprint(families["certctl_certificate_expiration_timestamp_seconds"]), `"external-etcd-ca"`) {
		t.Fatal("no series of external-etcd-ca with etcd.external in --config")
	}

	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr, For string
				Labels           map[string]string
				Annotations      map[string]string
			}
		}
	}
	if err := yaml.UnmarshalStrict([]byte(docBlockIn(t, "monitoring.md", "yaml", "groups:")), &rules); err != nil {
		t.Fatalf("docs/monitoring.md's alert rules: %v", err)
	}
	tried := map[string]bool{}
	for _, g := range rules.Groups {
		for _, rule := range g.Rules {
			if g.Name == "" || rule.Alert == "" || rule.Expr == "" || rule.Annotations["summary"] == "" {
				t.Errorf("group %q, alert %q: want a group name, an alert name, an expr and a summary", g.Name, rule.Alert)
			}
			if rule.For != "" {
				if _, err := model.ParseDuration(rule.For); err != nil {
					t.Errorf("alert %s: for: %v", rule.Alert, err)
				}
			}
			if s := rule.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("alert %s: severity %q", rule.Alert, s)
			}
			metrics := regexp.MustCompile(`certctl_[a-z_]+`).FindAllString(rule.Expr, -1)
			slices.Sort(metrics)
			for _, metric := range slices.Compact(metrics) {
				if families[metric] == nil {
					t.Errorf("alert %s uses %s, which check-expiration does not export", rule.Alert, metric)
					continue
				}
				for _, m := range families[metric].GetMetric() {
					labels := map[string]string{"instance": "cp-1:9100", "job": "node-control-plane"}
					for _, l := range m.GetLabel() {
						labels[l.GetName()] = l.GetValue()
					}
					for key, text := range rule.Annotations {
						got, err := expandAlertTemplate(text, labels, -3600)
						if err != nil {
							t.Errorf("alert %s, %s, on %v: %v", rule.Alert, key, labels, err)
							continue
						}
						// renew and ca rotate refuse etcd.external's files:
						// an expiry alert says where they are made instead
						expiry := rule.Alert == "KubernetesCertificateExpiresSoon" || rule.Alert == "KubernetesCertificateExpired"
						if name := labels["name"]; (expiry || rule.Alert == "KubernetesCertificateFileMissing") && key == "description" && strings.HasPrefix(name, "external-etcd-") && !strings.Contains(got, "where that etcd's certificates are made") {
							t.Errorf("alert %s on %s: the description does not say where etcd.external's files are made:\n%s", rule.Alert, name, got)
						}
						// certctl has no backup of kubelet.conf after the
						// kubelet's TLS bootstrap: a missing one is made again
						if name := labels["name"]; rule.Alert == "KubernetesCertificateFileMissing" && key == "description" && name == "kubelet.conf" && !strings.Contains(got, "certctl init-phase kubeconfig kubelet") {
							t.Errorf("alert %s on %s: the description does not say how to make it again:\n%s", rule.Alert, name, got)
						}
						for _, c := range regexp.MustCompile("`(certctl [^`]*)`").FindAllStringSubmatch(got, -1) {
							if !tried[c[1]] {
								tried[c[1]] = true
								checkAdvisedCommand(t, bin, n, rule.Alert, c[1])
							}
						}
					}
				}
			}
		}
	}
	if len(tried) == 0 {
		t.Error("no alert of docs/monitoring.md names a certctl command")
	}
	t.Logf("commands the alerts name, run: %q", slices.Sorted(maps.Keys(tried)))
}

// expandAlertTemplate expands an annotation as Prometheus does: a Go
// text/template with $labels and $value defined before it and Prometheus's
// functions (here the one the rules use); a label the series does not have
// is an error.
func expandAlertTemplate(text string, labels map[string]string, value float64) (string, error) {
	funcs := template.FuncMap{
		"humanizeDuration": func(v float64) string { return (time.Duration(v) * time.Second).String() },
	}
	tmpl, err := template.New("annotation").Option("missingkey=error").Funcs(funcs).
		Parse("{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$value := .Value}}" + text)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	err = tmpl.Execute(&out, struct {
		Labels, ExternalLabels map[string]string
		Value                  float64
	}{labels, map[string]string{}, value})
	return out.String(), err
}

// checkAdvisedCommand runs a certctl command an alert names on the test
// node (renew and ca rotate as a dry run, ca rotate on this node alone,
// restore without a backup named, which lists them):
// it must not fail.
func checkAdvisedCommand(t *testing.T, bin string, n rotationNode, alert, line string) {
	t.Helper()
	args := strings.Fields(strings.TrimPrefix(line, "certctl "))
	ok := []int{0}
	switch {
	case args[0] == "renew":
		args = append(args, "--dry-run")
		if slices.Contains(args, "--restart-control-plane") {
			args = append(args, "--manifest-dir", n.manifestDir)
		}
		if slices.Contains(args, "--if-expires-within") {
			ok = []int{0, 2} // nothing due
		}
	case args[0] == "ca" && len(args) > 1 && args[1] == "rotate":
		args = append(args, "--dry-run", "--node-only", "--manifest-dir", n.manifestDir)
	case args[0] == "check-expiration":
		ok = []int{0, 3} // a problem found
	case len(args) == 1 && args[0] == "restore": // lists the backups, restores nothing
	case args[0] == "init-phase":
		args = append(args, "--dry-run")
	default:
		t.Errorf("alert %s names %q, which this test does not know how to run", alert, line)
		return
	}
	args = append(args, n.flags()...)
	if r := runCode(t, bin, args...); !slices.Contains(ok, r.code) {
		t.Errorf("alert %s says to run %q; it fails (certctl %s: exit %d)\n%s%s", alert, line, strings.Join(args, " "), r.code, r.out, r.errOut)
	}
}
