package copycerts

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestUnreachableSaysWhatToDo: certs upload and download against an API
// server that does not answer fail with one line that names the object
// and says what to do, not a bare "connection refused".
func TestUnreachableSaysWhatToDo(t *testing.T) {
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: "https://127.0.0.1:1", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	n := pkitest.NewNode(t, nil)
	var out bytes.Buffer
	_, uerr := Upload(t.Context(), cs, Options{CertDir: n.CertDir(), Key: testKey(t), Rand: rand.Reader, Out: &out})
	derr := Download(t.Context(), cs, Options{Now: downloaded, CertDir: t.TempDir(), Key: testKey(t), Out: &out})
	for what, err := range map[string]error{"upload": uerr, "download": derr} {
		if err == nil || !strings.Contains(err.Error(), "connection refused") ||
			!strings.Contains(err.Error(), "is the API server up and reachable") || !strings.Contains(err.Error(), "--kubeconfig") {
			t.Errorf("%s with the API server down: %v", what, err)
		}
	}
}
