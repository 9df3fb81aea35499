package signer

import (
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// unreachableClient is a client of an API server that refuses
// connections (port 1 of the loopback address).
func unreachableClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: "https://127.0.0.1:1", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestUnreachableSaysWhatToDo: approve, deny and sign against an API
// server that does not answer fail at once with one line that names the
// CSR and says what to do, as renew --use-api's does (docs/renew.md, "API
// server down"): not a bare "connection refused".
func TestUnreachableSaysWhatToDo(t *testing.T) {
	cs := unreachableClient(t)
	_, aerr := Approve(t.Context(), cs, "csr-1", ApproveOptions{Force: true})
	_, derr := Deny(t.Context(), cs, "csr-1", "Nope", "", time.Now(), false)
	_, serr := Sign(t.Context(), cs, "csr-1", SignOptions{CA: newTestCA(t, "ca", testNow.Add(time.Hour))})
	for what, err := range map[string]error{"approve": aerr, "deny": derr, "sign": serr} {
		if err == nil || !strings.Contains(err.Error(), "csr-1") || !strings.Contains(err.Error(), "connection refused") ||
			!strings.Contains(err.Error(), "is the API server up and reachable") || !strings.Contains(err.Error(), "--kubeconfig") {
			t.Errorf("%s with the API server down: %v", what, err)
		}
	}
}
