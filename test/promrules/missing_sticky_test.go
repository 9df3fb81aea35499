package promrules

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
)

// TestFileMissingStaysFiring: KubernetesCertificateFileMissing fired for a
// file Prometheus had seen in the last 7 days, and so resolved 7 days
// after the file went, with nothing mended: the SRE got "resolved" while
// the component that reads it still fails at its next start. It now fires
// until the file is back, however long, and still never for a file
// missing from the first check on. The textfiles are made up here (the
// check's own output is TestMonitoringDocsAlerts'), and the rules are
// evaluated every 4 minutes over 9 days, under the 5 minutes of
// Prometheus's lookback, which the rule's read of ALERTS relies on.
func TestFileMissingStaysFiring(t *testing.T) {
	var rule *alertRule
	rules := docRules(t)
	for i := range rules {
		if rules[i].rule.Alert == "KubernetesCertificateFileMissing" {
			rule = &rules[i]
		}
	}
	if rule == nil {
		t.Fatal("docs/monitoring.md has no KubernetesCertificateFileMissing")
	}
	const step = 4 * time.Minute
	const instance = "cp-1:9100"
	metrics := func(checked time.Time, apiserverThere bool) string {
		var b strings.Builder
		for _, name := range []string{"certctl_check_timestamp_seconds", "certctl_certificate_expiration_timestamp_seconds", "certctl_certificate_missing"} {
			fmt.Fprintf(&b, "# TYPE %s gauge\n", name)
		}
		fmt.Fprintf(&b, "certctl_check_timestamp_seconds %d\n", checked.Unix())
		missing := 1
		if apiserverThere {
			missing = 0
			fmt.Fprintf(&b, "certctl_certificate_expiration_timestamp_seconds{ca=\"ca\",file=\"/etc/kubernetes/pki/apiserver.crt\",kind=\"certificate\",name=\"apiserver\"} %d\n", checked.Add(300*24*time.Hour).Unix())
		}
		fmt.Fprintf(&b, "certctl_certificate_missing{ca=\"ca\",file=\"/etc/kubernetes/pki/apiserver.crt\",kind=\"certificate\",name=\"apiserver\"} %d\n", missing)
		// never there: an external etcd's
		fmt.Fprintf(&b, "certctl_certificate_missing{ca=\"etcd-ca\",file=\"/etc/kubernetes/pki/etcd/server.crt\",kind=\"certificate\",name=\"etcd-server\"} 1\n")
		return b.String()
	}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	gone, back := t0.Add(time.Hour), t0.Add(time.Hour+8*24*time.Hour)
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e7, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	s := scrapes{}
	want := `KubernetesCertificateFileMissing{ca="ca", file="/etc/kubernetes/pki/apiserver.crt", instance="cp-1:9100", job="node-control-plane", kind="certificate", name="apiserver", severity="critical"}`
	for ts := t0; ts.Before(back.Add(time.Hour)); ts = ts.Add(step) {
		there := ts.Before(gone) || !ts.Before(back)
		if err := s.scrape(job, instance, metrics(ts, there), ts); err != nil {
			t.Fatal(err)
		}
		if err := rule.eval(context.Background(), engine, s, ts); err != nil {
			t.Fatalf("at %s: %v", ts, err)
		}
		s.alerts(rule, ts)
		got := firing([]alertRule{*rule})
		if there && len(got) > 0 || !there && !slices.Equal(got, []string{want}) {
			t.Fatalf("at gone%+v (apiserver.crt there: %v), firing:\n  %s", ts.Sub(gone), there, strings.Join(got, "\n  "))
		}
	}
}
