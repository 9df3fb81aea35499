package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHTTPSProxyRefusesConnect: client-go honours $HTTPS_PROXY; when the
// proxy refuses CONNECT to the API server, the error names the proxy and
// $NO_PROXY, not only a "Forbidden" that reads as the API server's.
func TestHTTPSProxyRefusesConnect(t *testing.T) {
	bin := certctlBin(t)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "denied by policy", http.StatusForbidden)
	}))
	defer proxy.Close()
	kc := filepath.Join(t.TempDir(), "token.conf")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://api.example.invalid:6443", insecure-skip-tls-verify: true}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
users:
- name: u
  user: {token: t0ken}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "deny", "csr-x", "--reason", "Test", "--kubeconfig", kc)
	cmd.Env = append(os.Environ(), "HTTPS_PROXY="+proxy.URL, "https_proxy="+proxy.URL, "NO_PROXY=", "no_proxy=")
	out, err := cmd.CombinedOutput()
	want := "Forbidden (through the proxy " + proxy.URL + " ($HTTPS_PROXY; add the API server to $NO_PROXY to reach it directly)): is the API server up and reachable? Check the server of kubeconfig " + kc
	if err == nil || !strings.Contains(string(out), want) || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
		t.Errorf("deny through a proxy that refuses CONNECT: %v, output %q; want one line with %q", err, out, want)
	}
}
