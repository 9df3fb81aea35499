package apirenew

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/certctl/certctl/internal/refused"
	"github.com/certctl/certctl/phases/renewal"
)

// TestAccessCheckUnanswered: a review the API server does not answer at
// all, its connection refused or no answer within the client's own bound
// (here the transport's ResponseHeaderTimeout stands for kubeclient's
// answer timeout),
// stops the run at the access check, well before --timeout (a minute).
// Before, it let the run go on: it made and saved a key, waited as long
// again for the CSR's creation, and only then asked whether the API
// server was up. Now the error names the check and the API server, no
// key is made and nothing is printed. (The reviews' own fixed 30 s bound,
// removed with this, would take a 30 s test to show.)
func TestAccessCheckUnanswered(t *testing.T) {
	ca := newTestCA(t)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer hang.Close()
	defer close(release) // before Close, which waits for the handlers
	for _, tc := range []struct {
		name, url, want string
	}{
		{"connection refused", "http://" + refused.Addr(t), "connection refused"},
		{"no answer", hang.URL, "net/http: timeout awaiting response headers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The answer's bound on the transport alone: rest.Config's
			// Timeout sets both http.Client's and the request's context's,
			// and which of the two ends it first (and so the words) was a
			// race.
			cs, err := kubernetes.NewForConfig(&rest.Config{Host: tc.url, Transport: &http.Transport{ResponseHeaderTimeout: 300 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			out := &syncBuffer{}
			is, err := New(Options{Client: cs, Server: tc.url, Credentials: "kubeconfig /etc/kubernetes/admin.conf", NodeName: "cp-1",
				PendingDir: dir + "/" + PendingDirName, Timeout: time.Minute, Out: out})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = is.Obtain(context.Background(), []renewal.Request{ca.request(t, "admin.conf", adminProfile)})
			want := []string{"check that kubeconfig /etc/kubernetes/admin.conf may create certificatesigningrequests: ", tc.want,
				": is the API server at " + tc.url + " up and reachable? Nothing was changed"}
			if err == nil || !contains(err.Error(), want...) || strings.Contains(err.Error(), "create CSR") {
				t.Fatalf("Obtain: %v; want %q", err, want)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v: not the client's bound", d)
			}
			if _, err := os.Stat(is.pending.dir); !os.IsNotExist(err) {
				t.Errorf("pending folder made: %v", err)
			}
			if out.String() != "" {
				t.Errorf("output before the error:\n%s", out)
			}
		})
	}
}
