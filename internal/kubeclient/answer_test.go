package kubeclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/refused"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// tokenKubeconfig writes a kubeconfig of server, trusting srv's
// certificate when srv is set, that authenticates with a token.
func tokenKubeconfig(t *testing.T, server string, srv *httptest.Server) string {
	t.Helper()
	ca := "insecure-skip-tls-verify: true"
	if srv != nil {
		ca = "certificate-authority: " + filepath.Join(t.TempDir(), "ca.crt")
		if err := os.WriteFile(ca[len("certificate-authority: "):], pki.EncodeCert(srv.Certificate()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "token.conf")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: %q, %s}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
users:
- name: u
  user: {token: t0ken}
`, server, ca)
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAnswerTimeout: an API server that accepts the connection and the
// TLS handshake but never answers fails the request after the answer
// timeout, naming the kubeconfig, instead of holding the command forever;
// a watch whose events come later than that is not cut; an interruption
// stays context.Canceled.
func TestAnswerTimeout(t *testing.T) {
	const after = 300 * time.Millisecond
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") != "true" {
			select { // never answers
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		time.Sleep(3 * after)
		fmt.Fprintln(w, `{"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late","namespace":"kube-system","resourceVersion":"2"}}}`)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	defer close(release)
	t.Setenv("KUBECONFIG", "")
	kc := tokenKubeconfig(t, srv.URL, srv)
	c, err := New(Options{Kubeconfig: kc, AnswerTimeout: after})
	if err != nil {
		t.Fatal(err)
	}
	cms := c.CoreV1().ConfigMaps("kube-system")

	t.Run("no answer", func(t *testing.T) {
		err := treetest.Unblocked(t, "Get", func() error {
			_, err := cms.Get(context.Background(), "x", metav1.GetOptions{})
			return Unanswered(err, "; nothing was changed")
		})
		treetest.ErrMentions(t, err, srv.URL, "did not answer within 300ms", "Check the server of kubeconfig "+kc+"; nothing was changed")
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("error %v is not a net.Error timeout", err)
		}
	})
	t.Run("a watch streams past it", func(t *testing.T) {
		w, err := cms.Watch(context.Background(), metav1.ListOptions{ResourceVersion: "1"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		select {
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type != "ADDED" {
				t.Fatalf("watch event %v (open %v), want the ConfigMap ADDED after %v", ev, ok, 3*after)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no watch event")
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(after/3, cancel)
		_, err := cms.Get(ctx, "x", metav1.GetOptions{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if got := Unanswered(err, ""); got != err {
			t.Errorf("Unanswered changed an interruption: %v", got)
		}
	})
}

// TestUnansweredNamesKubeconfig: a server that refuses the connection is
// named with the kubeconfig it came from, $KUBECONFIG's as well as
// --kubeconfig's.
func TestUnansweredNamesKubeconfig(t *testing.T) {
	server := "https://" + refused.Addr(t)
	kc := tokenKubeconfig(t, server, nil)
	t.Setenv("HOME", t.TempDir())
	for name, tc := range map[string]struct {
		flag, env, source string
	}{
		"--kubeconfig": {kc, "", "kubeconfig " + kc},
		"$KUBECONFIG":  {"", kc, "$KUBECONFIG " + kc},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tc.env)
			c, err := New(Options{Kubeconfig: tc.flag})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CoreV1().ConfigMaps("kube-system").Get(context.Background(), "x", metav1.GetOptions{})
			treetest.ErrMentions(t, Unanswered(err, ""), server, "connection refused", "is the API server up and reachable? Check the server of "+tc.source)
		})
	}
}

// TestProxyRefusal: a proxy that refuses CONNECT is named, with where it
// came from: its "Forbidden" would read as the API server's.
func TestProxyRefusal(t *testing.T) {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "denied by policy", http.StatusForbidden)
	}))
	defer proxy.Close()
	kc := tokenKubeconfig(t, "https://api.example.invalid:6443", nil)
	b, err := os.ReadFile(kc)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), "insecure-skip-tls-verify: true", "insecure-skip-tls-verify: true, proxy-url: "+proxy.URL, 1))
	if err := os.WriteFile(kc, b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", "")
	c, err := New(Options{Kubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CoreV1().ConfigMaps("kube-system").Get(context.Background(), "x", metav1.GetOptions{})
	treetest.ErrMentions(t, Unanswered(err, ""), "Forbidden", "through the proxy "+proxy.URL+" (proxy-url of the kubeconfig "+kc+")", "Check the server of kubeconfig "+kc)
}

// TestGetRetriedAfterEOF: client-go retries a GET whose connection was
// closed without an answer (io.EOF: a kube-apiserver restarting behind a
// load balancer), recognising it by identity (utilnet.IsProbableEOF). The
// answer timeout's transport wrapped every transport error, so an EOF was
// no longer io.EOF and the first restart failed the command.
func TestGetRetriedAfterEOF(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // no answer at all: the client reads EOF
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"kube-system"}}`)
	}))
	srv.EnableHTTP2 = false
	defer srv.Close()
	t.Setenv("KUBECONFIG", "")
	c, err := New(Options{Kubeconfig: tokenKubeconfig(t, srv.URL, srv)})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := c.CoreV1().ConfigMaps("kube-system").Get(context.Background(), "x", metav1.GetOptions{})
	if err != nil || cm.Name != "x" {
		t.Fatalf("Get after one closed connection: %v, %v; want it retried (%d request(s) seen)", cm, err, calls.Load())
	}
}
