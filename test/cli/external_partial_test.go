package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRenewAllWithOfflineEtcdCA: with ca.key on the node and etcd/ca.key
// kept offline, `renew all` (from cron, too) renews everything the cluster
// CA and the front-proxy CA sign, reports the etcd certificates as external,
// and exits 5: neither success (0) nor failure (1), and the timer's
// SuccessExitStatus holds it (issue 14, item 1).
func TestRenewAllWithOfflineEtcdCA(t *testing.T) {
	bin := certctlBin(t)
	// Leaves valid for 48h, so that a cron window of 72h finds them due.
	dir := filepath.Join(t.TempDir(), "etc-kubernetes")
	n := node{dir: dir, certDir: filepath.Join(dir, "pki")}
	id := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256", "--certificate-validity", "48h"}
	run(t, bin, append([]string{"init-phase", "certs", "all", "--cert-dir", n.certDir}, id...)...)
	run(t, bin, append(append([]string{"init-phase", "kubeconfig", "all"}, n.flags()...), id...)...)
	if err := os.Remove(filepath.Join(n.certDir, "etcd", "ca.key")); err != nil {
		t.Fatal(err)
	}
	before := read(t, filepath.Join(n.certDir, "etcd", "server.crt"))
	apiserver := read(t, filepath.Join(n.certDir, "apiserver.crt"))

	r := runCode(t, bin, append([]string{"renew", "all"}, n.flags()...)...)
	if r.code != 5 {
		t.Fatalf("renew all: exit %d, want 5\n%s%s", r.code, r.out, r.errOut)
	}
	for _, want := range []string{"EXTERNAL CA! certificate for serving etcd", filepath.Join(n.certDir, "etcd", "ca.key"), "apiserver renewed",
		"4 certificate(s) of an external CA not renewed", "certctl renew etcd-server etcd-peer etcd-healthcheck-client apiserver-etcd-client --use-api"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("renew all does not say %q:\n%s", want, r.out)
		}
	}
	if string(read(t, filepath.Join(n.certDir, "etcd", "server.crt"))) != string(before) {
		t.Error("etcd/server.crt changed without its CA key")
	}
	if string(read(t, filepath.Join(n.certDir, "apiserver.crt"))) == string(apiserver) {
		t.Error("apiserver.crt was not renewed")
	}

	// From cron: --quiet still says it (stderr), -o json has its status.
	r = runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "72h", "--quiet"}, n.flags()...)...)
	if r.code != 5 || r.out != "" || !strings.Contains(r.errOut, "of an external CA not renewed") {
		t.Errorf("--quiet: exit %d, stdout %q, stderr %q", r.code, r.out, r.errOut)
	}
	r = runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "72h", "-o", "json"}, n.flags()...)...)
	var s struct {
		Status   string
		ExitCode int
		Skipped  []struct{ Name, Reason string }
	}
	if err := json.Unmarshal([]byte(r.out), &s); err != nil {
		t.Fatalf("-o json: %v\n%s", err, r.out)
	}
	external := 0
	for _, sk := range s.Skipped {
		if sk.Reason == "external-ca" {
			external++
		}
	}
	if r.code != 5 || s.Status != "external-ca" || s.ExitCode != 5 || external != 4 {
		t.Errorf("-o json: exit %d, %+v", r.code, s)
	}

	// A named certificate of the external CA is still an error.
	if r := runCode(t, bin, append([]string{"renew", "etcd-server"}, n.flags()...)...); r.code != 1 || !strings.Contains(r.errOut, "--use-csr") {
		t.Errorf("renew etcd-server: exit %d, stderr %q", r.code, r.errOut)
	}
	// The timer unit counts 5 as a success.
	unit := run(t, bin, "install-timer", "--print")
	if !slices.ContainsFunc(strings.Split(unit, "\n"), func(l string) bool { return l == "SuccessExitStatus=2 5 143 SIGTERM" }) {
		t.Errorf("install-timer's unit does not count 5 as a success:\n%s", unit)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
