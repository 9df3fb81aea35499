package promrules

import (
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// scrapes is what a Prometheus server has stored: series by their labels,
// each with its samples in time order. It is a storage.Queryable for the
// engine (promqltest's and the rules package's test storage is a TSDB,
// whose modules are what this test avoids: see alertRule).
type scrapes map[string]*series

type series struct {
	labels  labels.Labels
	samples []chunks.Sample
}

// scrape adds what a scrape of one node_exporter stores at ts: up 1 and
// the textfile's metrics, with the target's job and instance labels (none
// when there is no textfile).
func (s scrapes) scrape(job, instance, textfile string, ts time.Time) error {
	target := map[string]string{"job": job, "instance": instance}
	s.add(labels.FromMap(map[string]string{labels.MetricName: "up", "job": job, "instance": instance}), ts, 1)
	if textfile == "" {
		return nil
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(textfile))
	if err != nil {
		return err
	}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			l := map[string]string{labels.MetricName: name}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			for k, v := range target {
				l[k] = v
			}
			s.add(labels.FromMap(l), ts, m.GetGauge().GetValue())
		}
	}
	return nil
}

// down adds a failed scrape of a node_exporter at ts: up 0 alone.
func (s scrapes) down(job, instance string, ts time.Time) {
	s.add(labels.FromMap(map[string]string{labels.MetricName: "up", "job": job, "instance": instance}), ts, 0)
}

// alerts adds what Prometheus stores after it evaluated r at ts: an
// ALERTS series, 1, for each of its pending and firing alerts, with the
// alert's labels and alertstate (rules/alerting.go, forStateSample's
// sibling sample), which a rule may read, as KubernetesCertificateFileMissing
// does.
func (s scrapes) alerts(r *alertRule, ts time.Time) {
	for _, a := range r.active {
		state := "pending"
		if a.firing {
			state = "firing"
		}
		l := labels.NewBuilder(a.labels).Set(labels.MetricName, "ALERTS").Set("alertstate", state).Labels()
		s.add(l, ts, 1)
	}
}

func (s scrapes) add(l labels.Labels, ts time.Time, v float64) {
	key := l.String()
	if s[key] == nil {
		s[key] = &series{labels: l}
	}
	s[key].samples = append(s[key].samples, sample{t: ts.UnixMilli(), f: v})
}

func (s scrapes) Querier(_, _ int64) (storage.Querier, error) {
	return &storage.MockQuerier{SelectMockFunction: s.selectSeries}, nil
}

func (s scrapes) selectSeries(_ bool, _ *storage.SelectHints, matchers ...*labels.Matcher) storage.SeriesSet {
	var out []storage.Series
	for _, sr := range s {
		if matchAll(sr.labels, matchers) {
			out = append(out, storage.NewListSeries(sr.labels, sr.samples))
		}
	}
	slices.SortFunc(out, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	return &seriesSet{list: out, i: -1}
}

func matchAll(l labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(l.Get(m.Name)) {
			return false
		}
	}
	return true
}

type seriesSet struct {
	list []storage.Series
	i    int
}

func (s *seriesSet) Next() bool                      { s.i++; return s.i < len(s.list) }
func (s *seriesSet) At() storage.Series              { return s.list[s.i] }
func (*seriesSet) Err() error                        { return nil }
func (*seriesSet) Warnings() annotations.Annotations { return nil }
func (sample) H() *histogram.Histogram               { return nil }
func (sample) FH() *histogram.FloatHistogram         { return nil }
func (sample) Type() chunkenc.ValueType              { return chunkenc.ValFloat }
func (s sample) Copy() chunks.Sample                 { return s }
func (s sample) T() int64                            { return s.t }
func (sample) ST() int64                             { return 0 }
func (s sample) F() float64                          { return s.f }

// sample is a float sample.
type sample struct {
	t int64
	f float64
}
