// Package promtest reads Prometheus metrics in tests with the Prometheus
// library's own parser, as a scraper would: a test names a sample as it
// would appear in the exposition, `name{label="v",...} value`, and it is
// found whatever the label order, quoting or number format.
package promtest

import (
	"fmt"
	"maps"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Parse parses text in the Prometheus text exposition format.
func Parse(text string) (map[string]*dto.MetricFamily, error) {
	var p expfmt.TextParser
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return mfs, nil
}

// HasSample reports whether the exposition text has the sample want, given
// as one exposition line: the same metric name, the same labels and values
// (in any order) and the same value. An error means text or want does not
// parse.
func HasSample(text, want string) (bool, error) {
	have, err := Parse(text)
	if err != nil {
		return false, err
	}
	// A bare sample line parses as an untyped metric.
	w, err := Parse(want + "\n")
	if err != nil {
		return false, fmt.Errorf("the wanted sample %q: %w", want, err)
	}
	for name, wf := range w {
		wm := wf.GetMetric()[0]
		for _, m := range have[name].GetMetric() {
			if maps.Equal(labels(m), labels(wm)) && value(m) == value(wm) {
				return true, nil
			}
		}
	}
	return false, nil
}

func labels(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	default:
		return m.GetUntyped().GetValue()
	}
}
