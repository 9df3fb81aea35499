package testcluster

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Report is what a Traffic counted.
type Report struct {
	Start, End time.Time
	Interval   time.Duration
	Kinds      []KindReport // in the order of AllTrafficKinds
}

// KindReport counts one kind of client over all endpoints.
type KindReport struct {
	Kind      TrafficKind
	Endpoints []EndpointReport // in node order
	// FewestOK is the fewest endpoints whose latest request was ok, at any moment after every
	// endpoint had answered once; -1 if some endpoint never answered.
	FewestOK int
	// LongestNoneOK is the longest time during which no endpoint's latest request was ok (from
	// the first request that left none ok to the next ok one), starting at LongestNoneOKFrom: on
	// one node, the unavailability window.
	LongestNoneOK     time.Duration
	LongestNoneOKFrom time.Time
}

// EndpointReport counts the requests of one kind to one node.
type EndpointReport struct {
	Node string
	URL  string
	// OK, Failed and Unavailable count requests that succeeded, that failed although something
	// listened (TLS errors, 401/403, 5xx, timeouts, unreadable credentials), and that found
	// nothing listening (connection refused).
	OK, Failed, Unavailable int
	// NotReady counts requests not sent because the endpoint's latest readiness check failed
	// (TrafficOptions.ReadyOnly).
	NotReady int
	// Errors are the first failures (TrafficOptions.KeepErrors), in order.
	Errors []TrafficError
}

// TrafficError is one failed request.
type TrafficError struct {
	At   time.Time
	Text string
}

// Kind returns the report of kind k, and whether it ran.
func (r Report) Kind(k TrafficKind) (KindReport, bool) {
	i := slices.IndexFunc(r.Kinds, func(kr KindReport) bool { return kr.Kind == k })
	if i < 0 {
		return KindReport{}, false
	}
	return r.Kinds[i], true
}

// Failed returns the failed requests of every kind.
func (r Report) Failed() int {
	n := 0
	for _, k := range r.Kinds {
		n += k.Failed()
	}
	return n
}

// OK, Failed and Unavailable sum the kind's endpoints.
func (k KindReport) OK() int     { return k.sum(func(e EndpointReport) int { return e.OK }) }
func (k KindReport) Failed() int { return k.sum(func(e EndpointReport) int { return e.Failed }) }
func (k KindReport) Unavailable() int {
	return k.sum(func(e EndpointReport) int { return e.Unavailable })
}

func (k KindReport) sum(f func(EndpointReport) int) int {
	n := 0
	for _, e := range k.Endpoints {
		n += f(e)
	}
	return n
}

// String is a summary for test logs: per kind and node the counts, the fewest endpoints ok at
// once, the longest time with none ok, and the first errors.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "traffic %s to %s (%v), a request every %v per kind and node; %d failed\n",
		r.Start.Format("15:04:05.000"), r.End.Format("15:04:05.000"), r.End.Sub(r.Start).Round(time.Millisecond), r.Interval, r.Failed())
	for _, k := range r.Kinds {
		fewest := fmt.Sprintf("%d/%d", k.FewestOK, len(k.Endpoints))
		if k.FewestOK < 0 {
			fewest = "unknown"
		}
		fmt.Fprintf(&b, "  %-15s ok %d, failed %d, unavailable %d%s; fewest ok at once %s; longest with none ok %v",
			k.Kind, k.OK(), k.Failed(), k.Unavailable(), notReadyText(k.NotReady()), fewest, k.LongestNoneOK.Round(time.Millisecond))
		if k.LongestNoneOK > 0 {
			fmt.Fprintf(&b, " (from %s)", k.LongestNoneOKFrom.Format("15:04:05.000"))
		}
		b.WriteString("\n")
		for _, e := range k.Endpoints {
			fmt.Fprintf(&b, "    %s %s: ok %d, failed %d, unavailable %d%s\n", e.Node, e.URL, e.OK, e.Failed, e.Unavailable, notReadyText(e.NotReady))
			for _, te := range e.Errors {
				fmt.Fprintf(&b, "      %s %s\n", te.At.Format("15:04:05.000"), te.Text)
			}
		}
	}
	return b.String()
}

func notReadyText(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", not ready %d", n)
}

// stats accumulates a Report; its caller holds Traffic.mu.
type stats struct {
	start    time.Time
	interval time.Duration
	keep     int
	kinds    []*kindStats
}

type kindStats struct {
	KindReport
	last      map[string]bool // node -> its latest request was ok
	noneSince time.Time       // zero while some endpoint is ok
}

func newStats(opts TrafficOptions, nodes []*Cluster) *stats {
	s := &stats{start: time.Now(), interval: opts.Interval, keep: opts.KeepErrors}
	for _, kind := range AllTrafficKinds {
		if !slices.Contains(opts.Kinds, kind) {
			continue
		}
		ks := &kindStats{KindReport: KindReport{Kind: kind, FewestOK: -1}, last: map[string]bool{}}
		for _, c := range nodes {
			url := c.URL(APIServer)
			if kind == TrafficEtcd {
				url = c.URL(Etcd)
			}
			ks.Endpoints = append(ks.Endpoints, EndpointReport{Node: c.nodeName, URL: url})
		}
		s.kinds = append(s.kinds, ks)
	}
	return s
}

func (s *stats) record(kind TrafficKind, node string, o outcome, text string, at time.Time) {
	i := slices.IndexFunc(s.kinds, func(ks *kindStats) bool { return ks.Kind == kind })
	if i < 0 {
		return
	}
	ks := s.kinds[i]
	e := &ks.Endpoints[slices.IndexFunc(ks.Endpoints, func(e EndpointReport) bool { return e.Node == node })]
	switch o {
	case ok:
		e.OK++
	case unavailable:
		e.Unavailable++
	case notReady:
		e.NotReady++
	default:
		e.Failed++
		if len(e.Errors) < s.keep {
			e.Errors = append(e.Errors, TrafficError{At: at, Text: text})
		}
	}
	ks.last[node] = o == ok
	n := 0
	for _, up := range ks.last {
		if up {
			n++
		}
	}
	if len(ks.last) == len(ks.Endpoints) && (ks.FewestOK < 0 || n < ks.FewestOK) {
		ks.FewestOK = n
	}
	switch {
	case n == 0 && ks.noneSince.IsZero():
		ks.noneSince = at
	case n > 0 && !ks.noneSince.IsZero():
		ks.closeNone(at)
	}
}

// closeNone ends the time with no endpoint ok at t.
func (ks *kindStats) closeNone(t time.Time) {
	if d := t.Sub(ks.noneSince); d > ks.LongestNoneOK {
		ks.LongestNoneOK, ks.LongestNoneOKFrom = d, ks.noneSince
	}
	ks.noneSince = time.Time{}
}

// report copies the counts; a time with none ok that still lasts counts up to now.
func (s *stats) report(now time.Time) Report {
	r := Report{Start: s.start, End: now, Interval: s.interval}
	for _, ks := range s.kinds {
		cp := *ks
		cp.Endpoints = slices.Clone(ks.Endpoints)
		for i := range cp.Endpoints {
			cp.Endpoints[i].Errors = slices.Clone(cp.Endpoints[i].Errors)
		}
		if !cp.noneSince.IsZero() {
			cp.closeNone(now)
		}
		r.Kinds = append(r.Kinds, cp.KindReport)
	}
	return r
}

// NotReady sums the kind's endpoints' requests not sent (ReadyOnly).
func (k KindReport) NotReady() int { return k.sum(func(e EndpointReport) int { return e.NotReady }) }
