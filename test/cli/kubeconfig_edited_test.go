package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenewKubeconfigEditedWithKubectl: admin.conf edited with kubectl as
// users do (a context of their own with a token, TLS verification turned
// off instead of the CA data) is renewed into a file kubectl still uses:
// no CA data next to insecure-skip-tls-verify (client-go refuses both), the
// user's context, user and cluster kept.
func TestRenewKubeconfigEditedWithKubectl(t *testing.T) {
	bin := certctlBin(t)
	kubectl, err := filepath.Abs(filepath.Join("..", "..", "_output", "bin", "v1.37.1", "kubectl"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("kubectl v1.37.1 not found at %s: run `make kube-binaries` first", kubectl)
	}
	n := makeNode(t, bin, "ECDSA-P256")
	f := filepath.Join(n.dir, "admin.conf")
	kc := func(args ...string) (string, error) {
		out, err := exec.Command(kubectl, append([]string{"--kubeconfig", f}, args...)...).CombinedOutput()
		return string(out), err
	}
	for _, args := range [][]string{
		{"config", "set-cluster", "prod", "--server", "https://lb.example.com:6443"},
		{"config", "set-credentials", "ops", "--token", "t0ken"},
		{"config", "set-context", "prod", "--cluster", "prod", "--user", "ops"},
		{"config", "unset", "clusters.kubernetes.certificate-authority-data"},
		{"config", "set", "clusters.kubernetes.insecure-skip-tls-verify", "true"},
	} {
		if out, err := kc(args...); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	certData := func() string {
		out, err := kc("config", "view", "--raw", "-o", `jsonpath={.users[?(@.name=="kubernetes-admin")].user.client-certificate-data}`)
		if err != nil || out == "" {
			t.Fatalf("kubectl config view %s: %v\n%s", f, err, out)
		}
		return out
	}
	before := certData()
	run(t, bin, append([]string{"renew", "admin.conf"}, n.flags()...)...)
	if certData() == before {
		t.Fatal("admin.conf was not renewed")
	}
	view, err := kc("config", "view", "--raw")
	if err != nil || strings.Contains(view, "certificate-authority-data") || !strings.Contains(view, "insecure-skip-tls-verify: true") ||
		!strings.Contains(view, "token: t0ken") || !strings.Contains(view, "server: https://lb.example.com:6443") {
		t.Errorf("renewed admin.conf, as kubectl reads it (%v):\n%s", err, view)
	}
	// kubectl builds its client before it connects: an invalid TLS
	// setting fails here, an unreachable server only later.
	out, _ := kc("get", "--raw", "/healthz", "--request-timeout", "1s", "--server", "https://127.0.0.1:1")
	if strings.Contains(out, "insecure") {
		t.Errorf("kubectl cannot use the renewed admin.conf: %s", out)
	}
}
