package testcluster

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/refused"
)

func TestTrafficStats(t *testing.T) {
	nodes := []*Cluster{
		{nodeName: "cp-1", host: "127.0.0.1", port: map[string]int{APIServer: 1, Etcd: 2}},
		{nodeName: "cp-2", host: "127.0.0.2", port: map[string]int{APIServer: 1, Etcd: 2}},
	}
	opts := TrafficOptions{Kinds: []TrafficKind{TrafficEtcd, TrafficAdmin}, KeepErrors: 1, Interval: time.Second}
	s := newStats(opts, nodes)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	steps := []struct {
		sec     int
		node    string
		o       outcome
		fewest  int
		longest time.Duration // as reported at that instant
	}{
		{0, "cp-1", ok, -1, 0}, // cp-2 has not answered yet
		{0, "cp-2", ok, 2, 0},
		{1, "cp-1", unavailable, 1, 0},
		{2, "cp-2", failed, 0, 0}, // none ok from 2s
		{4, "cp-2", failed, 0, 2 * time.Second},
		{5, "cp-1", ok, 0, 3 * time.Second},
		{6, "cp-1", failed, 0, 3 * time.Second}, // none ok again from 6s
		{10, "cp-2", failed, 0, 4 * time.Second},
	}
	for _, st := range steps {
		s.record(TrafficAdmin, st.node, st.o, "error at "+at(st.sec).Format("05"), at(st.sec))
		r := s.report(at(st.sec))
		k, _ := r.Kind(TrafficAdmin)
		if k.FewestOK != st.fewest || k.LongestNoneOK != st.longest {
			t.Errorf("after %ds %s: fewest %d, longest none ok %v; want %d, %v", st.sec, st.node, k.FewestOK, k.LongestNoneOK, st.fewest, st.longest)
		}
	}
	r := s.report(at(10))
	if len(r.Kinds) != 2 || r.Kinds[0].Kind != TrafficAdmin || r.Kinds[1].Kind != TrafficEtcd {
		t.Fatalf("kinds %v, want admin then etcd", r.Kinds)
	}
	k := r.Kinds[0]
	if k.OK() != 3 || k.Failed() != 4 || k.Unavailable() != 1 || r.Failed() != 4 {
		t.Errorf("counts ok %d failed %d unavailable %d (report %d failed), want 3 4 1 (4)", k.OK(), k.Failed(), k.Unavailable(), r.Failed())
	}
	if !k.LongestNoneOKFrom.Equal(at(6)) {
		t.Errorf("longest none ok from %v, want %v", k.LongestNoneOKFrom, at(6))
	}
	if e := k.Endpoints[1]; len(e.Errors) != 1 || e.Errors[0].Text != "error at 02" || e.URL != "https://127.0.0.2:1" {
		t.Errorf("cp-2 %s kept errors %v, want only the first (KeepErrors 1)", e.URL, e.Errors)
	}
	if e := r.Kinds[1].Endpoints[0]; e.URL != "https://127.0.0.1:2" || e.OK+e.Failed+e.Unavailable != 0 {
		t.Errorf("etcd endpoint %+v, want etcd's URL and no requests", e)
	}
	for _, want := range []string{"admin           ok 3, failed 4, unavailable 1; fewest ok at once 0/2; longest with none ok 4s (from 00:00:06.000)",
		"cp-2 https://127.0.0.2:1: ok 1, failed 3, unavailable 0", "00:00:02.000 error at 02", "fewest ok at once unknown"} {
		if !strings.Contains(r.String(), want) {
			t.Errorf("Report.String() has no %q:\n%s", want, r)
		}
	}
}

// TestTrafficSendClassifies: nothing listening is unavailable; a listener that answers with
// an error status or does not speak TLS is failed.
func TestTrafficSendClassifies(t *testing.T) {
	closed := refused.Addr(t)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) }), ReadHeaderTimeout: time.Second}
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l2)
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tests := []struct {
		name string
		url  string
		want outcome
		text string
	}{
		{"refused", "https://" + closed, unavailable, "connection refused"},
		{"plain HTTP on a TLS request", "https://" + l2.Addr().String(), failed, "http: server gave HTTP response to HTTPS client"},
		{"403", "http://" + l2.Addr().String(), failed, "403 Forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, text, _ := send(ctx, nil, http.MethodGet, tt.url, nil, nil, http.StatusOK)
			if o != tt.want || !strings.Contains(text, tt.text) {
				t.Errorf("send: %d %q, want %d with %q", o, text, tt.want, tt.text)
			}
		})
	}
}
