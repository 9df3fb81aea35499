package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
)

// TestUnauthorizedSaysWhatToDo: when the API server refuses the
// kubeconfig's credentials (401: the bootstrap token of the joining node's
// kubeconfig expired after its 24 hours or was deleted, or an expired
// admin certificate), certs download and upload say which kubeconfig and
// what to do, as they do for 403, not a bare "Unauthorized"; nothing is
// written.
func TestUnauthorizedSaysWhatToDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`))
	}))
	defer srv.Close()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	connect := func() (*kubeclient.Client, error) {
		return &kubeclient.Client{Clientset: cs, Source: "kubeconfig bootstrap.conf"}, nil
	}
	key, err := NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n := pkitest.NewNode(t, nil)
	empty := t.TempDir()
	command := func(dir string) Command {
		var out bytes.Buffer
		return Command{
			Options:        Options{Rand: rand.Reader, Out: &out, ErrOut: &out},
			CertificateKey: key,
			Settings:       func() (config.Cluster, error) { return config.Cluster{CertificatesDir: dir}, nil },
			Connect:        connect,
		}
	}
	derr := command(empty).Download(context.Background())
	uerr := command(n.CertDir()).Upload(context.Background())
	for what, c := range map[string]struct {
		err  error
		hint string
	}{
		"download": {derr, "bootstrap token"},
		"upload":   {uerr, "admin.conf"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), "Unauthorized") ||
			!strings.Contains(c.err.Error(), "kubeconfig bootstrap.conf") || !strings.Contains(c.err.Error(), c.hint) {
			t.Errorf("%s with refused credentials: want the kubeconfig named and a hint with %q, got %v", what, c.hint, c.err)
		}
	}
	if entries, err := os.ReadDir(empty); err != nil || len(entries) != 0 {
		t.Errorf("download with refused credentials wrote %v (%v)", entries, err)
	}
}
