package apirenew

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/certctl/certctl/phases/renewal"
)

// TestCreateAnsweredError: an API server that answers the CSR's creation
// with an HTTP error is up and reached: the error names the status and,
// for a 5xx, says to check its log and run again, not "is the API server
// up and reachable?", which it said; a connection closed without an
// answer still asks that. Nothing is left behind.
func TestCreateAnsweredError(t *testing.T) {
	ca := newTestCA(t)
	for _, tc := range []struct {
		name   string
		status int // 0: the connection is closed without an answer
		want   []string
		not    string
	}{
		{"503", http.StatusServiceUnavailable, []string{"answered 503 Service Unavailable, an error of its own (or of etcd behind it): check its log, then run the same command again; nothing was changed"}, "reachable"},
		{"500", http.StatusInternalServerError, []string{"answered 500 Internal Server Error", "check its log"}, "reachable"},
		{"401", http.StatusUnauthorized, []string{"answered 401 Unauthorized: ", "Unauthorized"}, "reachable"},
		{"closed", 0, []string{"EOF", "up and reachable? Nothing was changed"}, "answered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case tc.status != 0:
					// The access reviews too: answered with an error,
					// the run goes on.
					http.Error(w, "etcdserver: request timed out", tc.status)
				case strings.Contains(r.URL.Path, "accessreviews"):
					// Not served: the run goes on (a refused
					// connection would stop it there:
					// TestAccessCheckUnanswered).
					http.NotFound(w, r)
				default:
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						conn.Close()
					}
				}
			}))
			defer srv.Close()
			url := srv.URL
			cs, err := kubernetes.NewForConfig(&rest.Config{Host: url})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			o := Options{Client: cs, Server: url, NodeName: "cp-1", PendingDir: dir + "/" + PendingDirName}
			is, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			err = is.Obtain(context.Background(), []renewal.Request{ca.request(t, "admin.conf", adminProfile)})
			if err == nil || !contains(err.Error(), append(tc.want, "create CSR certctl-cp-1-admin.conf-")...) || strings.Contains(err.Error(), tc.not) {
				t.Errorf("Obtain: %v, want %q, not %q", err, tc.want, tc.not)
			}
			if _, err := os.Stat(o.PendingDir); !os.IsNotExist(err) {
				t.Errorf("pending key of a CSR never created left behind: %v", err)
			}
		})
	}
}
