package staticpods

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
