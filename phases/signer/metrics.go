package signer

import (
	"io"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics counts what a Controller does and serves it in Prometheus' text
// format, through the Prometheus client library (its registry, label
// escaping and encoding). It is safe for concurrent use.
type Metrics struct {
	reg                 *prometheus.Registry
	signed, failed      *prometheus.CounterVec // by signer_name; failed also by reason
	retries             prometheus.Counter
	leader              prometheus.Gauge
	caReloads, caFailed *prometheus.CounterVec     // by ca
	queueLen            atomic.Pointer[func() int] // set by the Controller
}

// NewMetrics returns zeroed metrics: a series for each of certctl's signer
// names from the start, so that a dashboard shows 0 rather than nothing.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	m.signed = counter("certctl_signer_csrs_signed_total", "CSRs signed, by signer name.", "signer_name")
	m.failed = counter("certctl_signer_csrs_failed_total", "CSRs marked Failed because they do not fit the policy, by signer name and reason.", "signer_name", "reason")
	m.caReloads = counter("certctl_signer_ca_reloads_total", "CAs read again from their changed files, by CA name.", "ca")
	m.caFailed = counter("certctl_signer_ca_reload_failures_total", "Checks that found a CA's files changed but unusable (missing, invalid, half replaced); the last good CA signs on. By CA name.", "ca")
	m.retries = prometheus.NewCounter(prometheus.CounterOpts{Name: "certctl_signer_retries_total", Help: "Syncs that failed and were queued again (conflicts, API errors)."})
	m.leader = prometheus.NewGauge(prometheus.GaugeOpts{Name: "certctl_signer_leader", Help: "1 while this instance signs (holds the lease, or runs without leader election)."})
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "certctl_signer_csrs_queued", Help: "CSRs waiting in the work queue."}, func() float64 {
		if f := m.queueLen.Load(); f != nil {
			return float64((*f)())
		}
		return 0
	})
	m.reg.MustRegister(m.retries, m.leader, queued)
	for _, n := range Names() {
		m.signed.WithLabelValues(n)
	}
	return m
}

// SetLeader records whether this instance holds the leader lease.
func (m *Metrics) SetLeader(b bool) {
	v := 0.0
	if b {
		v = 1
	}
	m.leader.Set(v)
}

// Handler serves /metrics (promhttp, the client library's handler);
// /healthz, for a liveness probe, which answers 200 "ok" while healthy
// returns nil and 500 with the error otherwise; and /readyz, for a
// readiness probe, likewise with ready, as Kubernetes' own components
// serve them.
func Handler(m *Metrics, healthy, ready func() error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	check := func(f func() error) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if err := f(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			_, _ = io.WriteString(w, "ok")
		}
	}
	mux.HandleFunc("GET /healthz", check(healthy))
	mux.HandleFunc("GET /readyz", check(ready))
	return mux
}

// addSignerNames adds a zeroed series of CSRs signed for each of names
// (the custom signers'), as NewMetrics does for certctl's names.
func (m *Metrics) addSignerNames(names ...string) {
	for _, n := range names {
		m.signed.WithLabelValues(n)
	}
}
