package signer

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// Metrics counts what a Controller does and serves it in Prometheus' text
// format. It is safe for concurrent use.
type Metrics struct {
	mu       sync.Mutex
	signedBy map[string]uint64    // signer name
	failedBy map[[2]string]uint64 // signer name, reason
	retries  uint64
	queueLen func() int
	leader   atomic.Bool
	// By CA name: reloads and failed reloads of a CASource's files.
	caReloads, caReloadFailures map[string]uint64
}

// NewMetrics returns zeroed metrics.
func NewMetrics() *Metrics {
	return &Metrics{signedBy: map[string]uint64{}, failedBy: map[[2]string]uint64{},
		caReloads: map[string]uint64{}, caReloadFailures: map[string]uint64{}}
}

func (m *Metrics) signed(signer string) {
	m.mu.Lock()
	m.signedBy[signer]++
	m.mu.Unlock()
}

func (m *Metrics) failed(signer, reason string) {
	m.mu.Lock()
	m.failedBy[[2]string{signer, reason}]++
	m.mu.Unlock()
}

func (m *Metrics) retried() {
	m.mu.Lock()
	m.retries++
	m.mu.Unlock()
}

// caWatched makes the CA's reload series appear, at zero, before any reload.
func (m *Metrics) caWatched(ca string) {
	m.mu.Lock()
	if _, ok := m.caReloads[ca]; !ok {
		m.caReloads[ca], m.caReloadFailures[ca] = 0, 0
	}
	m.mu.Unlock()
}

func (m *Metrics) caReloaded(ca string) {
	m.mu.Lock()
	m.caReloads[ca]++
	m.mu.Unlock()
}

func (m *Metrics) caReloadFailed(ca string) {
	m.mu.Lock()
	m.caReloadFailures[ca]++
	m.mu.Unlock()
}

func (m *Metrics) setQueue(f func() int) {
	m.mu.Lock()
	m.queueLen = f
	m.mu.Unlock()
}

// SetLeader records whether this instance holds the leader lease.
func (m *Metrics) SetLeader(b bool) { m.leader.Store(b) }

// Signed returns the number of CSRs signed for signer.
func (m *Metrics) Signed(signer string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.signedBy[signer]
}

// Failed returns the number of CSRs marked Failed for signer, all reasons.
func (m *Metrics) Failed(signer string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n uint64
	for k, v := range m.failedBy {
		if k[0] == signer {
			n += v
		}
	}
	return n
}

// CAReloads returns the number of times the CA called ca was read again
// from its changed files.
func (m *Metrics) CAReloads(ca string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.caReloads[ca]
}

// CAReloadFailures returns the number of checks that found the files of the
// CA called ca changed but unusable.
func (m *Metrics) CAReloadFailures(ca string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.caReloadFailures[ca]
}

// WriteText writes the metrics in Prometheus' text exposition format.
func (m *Metrics) WriteText(w io.Writer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b []byte
	add := func(format string, args ...any) { b = fmt.Appendf(b, format, args...) }
	add("# HELP certctl_signer_csrs_signed_total CSRs signed, by signer name.\n# TYPE certctl_signer_csrs_signed_total counter\n")
	for _, n := range Names() {
		add("certctl_signer_csrs_signed_total{signer_name=%q} %d\n", n, m.signedBy[n])
	}
	add("# HELP certctl_signer_csrs_failed_total CSRs marked Failed because they do not fit the policy, by signer name and reason.\n# TYPE certctl_signer_csrs_failed_total counter\n")
	keys := make([][2]string, 0, len(m.failedBy))
	for k := range m.failedBy {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		add("certctl_signer_csrs_failed_total{signer_name=%q,reason=%q} %d\n", k[0], k[1], m.failedBy[k])
	}
	queued := 0
	if m.queueLen != nil {
		queued = m.queueLen()
	}
	add("# HELP certctl_signer_csrs_queued CSRs waiting in the work queue.\n# TYPE certctl_signer_csrs_queued gauge\ncertctl_signer_csrs_queued %d\n", queued)
	add("# HELP certctl_signer_retries_total Syncs that failed and were queued again (conflicts, API errors).\n# TYPE certctl_signer_retries_total counter\ncertctl_signer_retries_total %d\n", m.retries)
	leader := 0
	if m.leader.Load() {
		leader = 1
	}
	add("# HELP certctl_signer_leader 1 while this instance signs (holds the lease, or runs without leader election).\n# TYPE certctl_signer_leader gauge\ncertctl_signer_leader %d\n", leader)
	add("# HELP certctl_signer_ca_reloads_total CAs read again from their changed files, by CA name.\n# TYPE certctl_signer_ca_reloads_total counter\n")
	for _, ca := range slices.Sorted(maps.Keys(m.caReloads)) {
		add("certctl_signer_ca_reloads_total{ca=%q} %d\n", ca, m.caReloads[ca])
	}
	add("# HELP certctl_signer_ca_reload_failures_total Checks that found a CA's files changed but unusable (missing, invalid, half replaced); the last good CA signs on. By CA name.\n# TYPE certctl_signer_ca_reload_failures_total counter\n")
	for _, ca := range slices.Sorted(maps.Keys(m.caReloadFailures)) {
		add("certctl_signer_ca_reload_failures_total{ca=%q} %d\n", ca, m.caReloadFailures[ca])
	}
	_, err := w.Write(b)
	return err
}

// Handler serves /metrics, and /healthz, which answers 200 "ok" while
// healthy returns nil and 500 with the error otherwise.
func Handler(m *Metrics, healthy func() error) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = m.WriteText(w)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := healthy(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	return mux
}
