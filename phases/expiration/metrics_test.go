package expiration

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// parseMetrics parses text with the Prometheus library's own parser, as a
// scraper or node_exporter's textfile collector would.
func parseMetrics(t *testing.T, text []byte) map[string]*dto.MetricFamily {
	t.Helper()
	var p expfmt.TextParser
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, text)
	}
	return mfs
}

// value returns the value of the series of family name whose labels
// include want; ok false when there is none.
func value(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	// A problem: the apiserver's key replaced by another.
	if err := os.Rename(n.Path("pki/apiserver-kubelet-client.key"), n.Path("pki/apiserver.key")); err != nil {
		t.Fatal(err)
	}
	info := check(t, n, nil)
	// A label value that needs escaping in the text format.
	info.Certificates[0].File = "/odd\"dir\\with\nnewline/" + filepath.Base(info.Certificates[0].File)
	info.RestartsOwed = []RestartOwed{{Component: "kube-apiserver", Since: checkAt}}
	var buf bytes.Buffer
	if err := WriteMetrics(&buf, info); err != nil {
		t.Fatal(err)
	}
	mfs := parseMetrics(t, buf.Bytes())

	for _, c := range append(info.Certificates, info.CertificateAuthorities...) {
		l := map[string]string{"name": c.Name, "file": c.File}
		if c.ExpirationDate == nil {
			continue
		}
		if v, ok := value(mfs, MetricExpiry, l); !ok || v != float64(c.ExpirationDate.Unix()) {
			t.Errorf("%s %v = %v (present %v), want %d", MetricExpiry, l, v, ok, c.ExpirationDate.Unix())
		}
		if v, ok := value(mfs, MetricResidual, l); !ok || v != float64(c.ResidualTimeSeconds) {
			t.Errorf("%s %v = %v (present %v), want %d", MetricResidual, l, v, ok, c.ResidualTimeSeconds)
		}
	}
	if _, ok := value(mfs, MetricExpiry, map[string]string{"file": info.Certificates[0].File}); !ok {
		t.Errorf("the escaped file label %q did not survive the round trip:\n%s", info.Certificates[0].File, buf.String())
	}
	if v, ok := value(mfs, MetricProblem, map[string]string{"name": "apiserver", "type": string(KeyMismatch)}); !ok || v != 1 {
		t.Errorf("no %s{name=apiserver,type=%s} 1:\n%s", MetricProblem, KeyMismatch, buf.String())
	}
	if _, ok := value(mfs, MetricProblem, map[string]string{"name": "front-proxy-client"}); ok {
		t.Errorf("a problem series for a healthy certificate:\n%s", buf.String())
	}
	if v, ok := value(mfs, MetricRestartOwed, map[string]string{"component": "kube-apiserver"}); !ok || v != 1 {
		t.Errorf("no %s{component=kube-apiserver} 1", MetricRestartOwed)
	}
	if v, ok := value(mfs, MetricCheckedAt, nil); !ok || v != float64(checkAt.Unix()) {
		t.Errorf("%s = %v, want %d", MetricCheckedAt, v, checkAt.Unix())
	}
	if v, ok := value(mfs, MetricMissing, map[string]string{"name": "ca", "kind": "ca"}); !ok || v != 0 {
		t.Errorf("%s{name=ca} = %v (present %v), want 0", MetricMissing, v, ok)
	}
}

// TestRestartsOwed: a restart that renew --restart-control-plane still owes
// is in the report, the metrics, and the exit status, which a problem
// outranks; and --textfile writes the metrics whole.
func TestRestartsOwed(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	since := checkAt.Add(-time.Hour).UTC()
	pending := `{"version": 1, "components": [{"component": "kube-apiserver", "manifest": "/etc/kubernetes/manifests/kube-apiserver.yaml",
		"files": ["` + n.Path("pki/apiserver.crt") + `"], "since": "` + since.Format(time.RFC3339) + `", "reason": "no new process after 5m0s"}]}`
	if err := os.WriteFile(filepath.Join(n.Dir, ".certctl-restarts.json"), []byte(pending), 0o600); err != nil {
		t.Fatal(err)
	}
	info := check(t, n, nil)
	if len(info.RestartsOwed) != 1 || info.RestartsOwed[0].Component != "kube-apiserver" || !info.RestartsOwed[0].Since.Equal(since) {
		t.Fatalf("RestartsOwed = %+v, want kube-apiserver since %s", info.RestartsOwed, since)
	}

	textfile := filepath.Join(t.TempDir(), "certctl.prom")
	before := treetest.Snapshot(t, n.Dir)
	var out, errOut bytes.Buffer
	o := Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: checkAt, Textfile: textfile}
	err := Report(t.Context(), o, "text", &out, &errOut)
	var ee *exitcode.Error
	if !errors.As(err, &ee) || ee.Code != exitcode.RestartOwed || !strings.Contains(err.Error(), "kube-apiserver") || !strings.Contains(err.Error(), "--restart-control-plane") {
		t.Fatalf("Report: %v, want exit status %d naming kube-apiserver and how to retry", err, exitcode.RestartOwed)
	}
	if !strings.Contains(out.String(), "RESTARTS OWED") || !strings.Contains(out.String(), "no new process after 5m0s") {
		t.Errorf("the table does not show the owed restart:\n%s", out.String())
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	data, err := os.ReadFile(textfile)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := value(parseMetrics(t, data), MetricRestartOwed, map[string]string{"component": "kube-apiserver"}); !ok || v != 1 {
		t.Errorf("the textfile has no owed restart:\n%s", data)
	}
	if st, err := os.Stat(textfile); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("textfile mode %v (%v), want 0644 so that node_exporter can read it", st.Mode().Perm(), err)
	}

	// A problem outranks the owed restart.
	if err := os.Remove(n.Path("pki/apiserver.key")); err != nil {
		t.Fatal(err)
	}
	if err := Report(t.Context(), o, "json", &out, &errOut); !errors.As(err, &ee) || ee.Code != exitcode.Problems {
		t.Errorf("with a problem too: %v, want exit status %d", err, exitcode.Problems)
	}
}
