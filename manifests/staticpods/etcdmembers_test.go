package staticpods

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/refused"
)

// TestEtcdMemberListRefusalOneLine: an answer other than 200 is quoted in
// the error, which check-expiration --cluster prints as a one-line
// warning and renew in its refusal. Whatever answered at an etcd client
// URL (a proxy's HTML page, a body of control characters) was quoted
// whole, up to the 1 MB read, over many lines.
func TestEtcdMemberListRefusalOneLine(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"etcd's own refusal kept whole", `{"error":"etcdserver: permission denied","code":7}` + "\n",
			`503 Service Unavailable: {"error":"etcdserver: permission denied","code":7}`},
		{"a page of many lines", "<html>\n<body>\n" + strings.Repeat("<p>proxy error é</p>\n", 50000) + "</body></html>\n",
			"503 Service Unavailable: <html> <body> <p>proxy error é</p>"},
		{"control characters", "bad\x00\x1b[31mred", `503 Service Unavailable: "bad\x00\x1b[31mred"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			_, err := ListEtcdMembers(context.Background(), []*x509.Certificate{srv.Certificate()}, nil, []string{srv.URL}, 5*time.Second)
			if err == nil {
				t.Fatal("no error for a 503")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not contain %q", msg, tc.want)
			}
			if strings.ContainsAny(msg, "\n\r\x00\x1b") {
				t.Errorf("error is not one printable line: %q", msg)
			}
			if len(msg) > len(srv.URL)+maxBodyExcerpt+100 {
				t.Errorf("error is %d bytes long: %.300q...", len(msg), msg)
			}
		})
	}
}

// TestEtcdMemberListDeadFirstEndpoint: the first etcd client URL is dead
// and a later one answers at once. The list must come from the live one
// promptly: every URL is asked at once, but the answers were read in the
// order of the URLs, so a first URL that takes connections and never
// answers (a node that hangs, a firewall dropping the rest) held up the
// list a live member had given for the whole timeout (5 s by default, in
// check-expiration --cluster before any handshake). A refused first URL
// fails at once either way.
func TestEtcdMemberListDeadFirstEndpoint(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"header":{"member_id":"1"},"members":[{"ID":"1","name":"cp-1","peerURLs":["https://127.0.0.1:2380"],"clientURLs":["https://127.0.0.1:2379"]}]}`))
	}))
	defer srv.Close()
	blackhole, err := net.Listen("tcp", "127.0.0.1:0") // never accepted: the kernel completes the TCP handshake
	if err != nil {
		t.Fatal(err)
	}
	defer blackhole.Close()
	const timeout = 3 * time.Second
	for _, tc := range []struct{ name, first string }{
		{"refused", "https://" + refused.Addr(t)},
		{"no answer", "https://" + blackhole.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			list, err := ListEtcdMembers(context.Background(), []*x509.Certificate{srv.Certificate()}, nil, []string{tc.first, srv.URL}, timeout)
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if list.From != srv.URL || len(list.Members) != 1 {
				t.Errorf("list from %s with %d members, want %s's one", list.From, len(list.Members), srv.URL)
			}
			if took > timeout/3 {
				t.Errorf("took %v with the first URL %s and a live second one, want well under the timeout %v", took, tc.name, timeout)
			}
		})
	}
}

// TestEtcdMemberListAllFail: when no URL gives the list, the error names
// every URL's failure, in the order of the URLs, on one line.
func TestEtcdMemberListAllFail(t *testing.T) {
	a, b := "https://"+refused.Addr(t), "https://"+refused.Addr(t)
	_, err := ListEtcdMembers(context.Background(), nil, nil, []string{a, b}, time.Second)
	if err == nil {
		t.Fatal("no error with every URL refused")
	}
	msg := err.Error()
	if i, j := strings.Index(msg, a), strings.Index(msg, b); i < 0 || j < i {
		t.Errorf("error %q does not name %s then %s", msg, a, b)
	}
}
