package promrules

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/template"
)

// docRules returns the alert rules of docs/monitoring.md's ```yaml block,
// parsed and validated by rulefmt as `promtool check rules` does (every
// expr parsed, unknown fields an error), each expr parsed again into the
// tree the engine runs.
func docRules(t *testing.T) []alertRule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "monitoring.md"))
	if err != nil {
		t.Fatal(err)
	}
	var block string
	for _, m := range regexp.MustCompile("(?s)\n```yaml\n(.*?)```\n").FindAllStringSubmatch(string(data), -1) {
		if strings.Contains(m[1], "groups:") {
			block = m[1]
		}
	}
	if block == "" {
		t.Fatal("docs/monitoring.md has no ```yaml block with the alert rules (groups:)")
	}
	p := parser.NewParser(parser.Options{})
	groups, errs := rulefmt.Parse([]byte(block), false, model.UTF8Validation, p, nil)
	for _, err := range errs {
		t.Errorf("docs/monitoring.md's alert rules: %v", err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	var out []alertRule
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("group %s: a recording rule (%s); this test evaluates alerts only", g.Name, r.Record)
				continue
			}
			if r.KeepFiringFor != 0 || g.Interval != 0 || g.QueryOffset != nil || len(g.Labels) > 0 {
				t.Errorf("alert %s: keep_firing_for, or a group interval, query_offset or labels, which this test does not implement (it evaluates every minute, Prometheus's default)", r.Alert)
			}
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				t.Errorf("alert %s: %v", r.Alert, err)
				continue
			}
			out = append(out, alertRule{rule: r, expr: expr, active: map[string]*alert{}})
		}
	}
	if len(out) == 0 {
		t.Fatal("docs/monitoring.md's rule file has no alert")
	}
	return out
}

// alertRule is one alerting rule and the state Prometheus keeps for it
// between evaluations. It follows rules.AlertingRule.Eval (prometheus
// v0.316.0 rules/alerting.go): an alert per label set of the expression's
// result, less __name__, plus the rule's labels and alertname; pending from
// the first evaluation that has it, firing once it has been there for
// `for:`, gone as soon as an evaluation lacks it. The rules package itself
// is not imported: it brings the TSDB and the remote-write clients (Azure,
// AWS, Google APIs), about 700 MB of modules where this needs 150 MB.
type alertRule struct {
	rule   rulefmt.Rule
	expr   parser.Expr
	active map[string]*alert // by the alert's labels
}

type alert struct {
	labels      labels.Labels
	value       float64
	activeAt    time.Time
	firing      bool
	annotations map[string]string
}

// eval runs the rule at ts, as a rule group's evaluation does, and
// returns an error for an expression the engine refuses or an annotation
// or label template that does not expand.
func (r *alertRule) eval(ctx context.Context, engine *promql.Engine, q storage.Queryable, ts time.Time) error {
	query, err := engine.NewInstantQuery(ctx, q, nil, r.expr.String(), ts)
	if err != nil {
		return fmt.Errorf("alert %s: %w", r.rule.Alert, err)
	}
	res := query.Exec(ctx)
	query.Close()
	if res.Err != nil {
		return fmt.Errorf("alert %s: %w", r.rule.Alert, res.Err)
	}
	vec, err := res.Vector()
	if err != nil {
		return fmt.Errorf("alert %s: %w", r.rule.Alert, err)
	}
	seen := map[string]bool{}
	for _, s := range vec {
		expand := func(what, text string) (string, error) {
			return expandTemplate(ctx, r.rule.Alert, what, text, s, ts)
		}
		lb := labels.NewBuilder(s.Metric)
		lb.Del(labels.MetricName)
		for _, k := range slices.Sorted(maps.Keys(r.rule.Labels)) {
			v, err := expand("label "+k, r.rule.Labels[k])
			if err != nil {
				return err
			}
			lb.Set(k, v)
		}
		lb.Set(labels.AlertName, r.rule.Alert)
		annotations := map[string]string{}
		for k, text := range r.rule.Annotations {
			if annotations[k], err = expand("annotation "+k, text); err != nil {
				return err
			}
		}
		lbls := lb.Labels()
		key := lbls.String()
		if seen[key] {
			return fmt.Errorf("alert %s: two series give the alert %s", r.rule.Alert, key)
		}
		seen[key] = true
		a := r.active[key]
		if a == nil {
			a = &alert{labels: lbls, activeAt: ts}
			r.active[key] = a
		}
		a.value, a.annotations = s.F, annotations
		a.firing = a.firing || ts.Sub(a.activeAt) >= time.Duration(r.rule.For)
	}
	for key := range r.active {
		if !seen[key] {
			delete(r.active, key)
		}
	}
	return nil
}

// expandTemplate expands a rule's label or annotation as Prometheus does
// (rules/alerting.go: $labels, $externalLabels, $externalURL and $value
// defined before the text, template.NewTemplateExpander), for the
// sample s at ts, but with missingkey=error where Prometheus has
// missingkey=zero: a label the series does not have would print as
// nothing in the page the SRE gets.
func expandTemplate(ctx context.Context, alertName, what, text string, s promql.Sample, ts time.Time) (string, error) {
	const defs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	extURL, _ := url.Parse("http://prometheus.example:9090")
	data := template.AlertTemplateData(s.Metric.Map(), map[string]string{}, extURL.String(), s)
	noQuery := func(context.Context, string, time.Time) (promql.Vector, error) {
		return nil, fmt.Errorf("a query in a template; this test runs none")
	}
	e := template.NewTemplateExpander(ctx, defs+text, "__alert_"+alertName, data, model.TimeFromUnixNano(ts.UnixNano()),
		noQuery, extURL, []string{"missingkey=error"})
	out, err := e.Expand()
	if err != nil {
		return "", fmt.Errorf("alert %s, %s, for %s: %w", alertName, what, s.Metric, err)
	}
	return out, nil
}

// firing returns every firing alert of rules as `Name{label="value", ...}`
// (alertname left out of the braces), sorted.
func firing(rules []alertRule) []string {
	var out []string
	for _, r := range rules {
		for _, a := range r.active {
			if a.firing {
				out = append(out, r.rule.Alert+labels.NewBuilder(a.labels).Del(labels.AlertName).Labels().String())
			}
		}
	}
	slices.Sort(out)
	return out
}
