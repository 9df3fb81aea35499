package phases

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestUseCSRKeptKubeconfigServer: a key-only kubeconfig an earlier
// `init-phase kubeconfig --use-csr` left is kept (its CSR may be at the CA
// already), but `certs import` installs it with the server it holds: when
// the configuration's API server URL changed since, the run says so, as it
// does for a kubeconfig file in the kubeconfig folder, and the import
// command it prints repeats the run's --config and folders, as the other
// printed import commands do (ImportCommand): without --config, copied,
// it imported without the check of the node's name.
func TestUseCSRKeptKubeconfigServer(t *testing.T) {
	e := newTestEnv(t)
	e.UseCSR = true
	e.CSRDir = filepath.Join(e.dir, "csr")
	e.ConfigFile = "/root/my cfg.yaml"
	e.Cluster.ControlPlaneEndpoint = "cp.example.com"
	e.mustRun(t, "kubeconfig", "all")
	e.Cluster.ControlPlaneEndpoint = "cp2.example.com:7443"
	e.out.Reset()
	e.mustRun(t, "kubeconfig", "all")
	want := "[warning] kubeconfig " + filepath.Join(e.CSRDir, "admin.conf") + " exists with the API server URL https://cp.example.com:6443, not https://cp2.example.com:7443: kept as it is, and `" + ImportCommand(e.CSRDir, e.ConfigFile, e.Cluster.CertificatesDir, e.KubeconfigDir) + "` installs it so"
	if !strings.Contains(e.out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, e.out)
	}
	if want := "--config '/root/my cfg.yaml'"; !strings.Contains(e.out.String(), want) {
		t.Errorf("the printed import command lacks %q:\n%s", want, e.out)
	}
	if strings.Contains(e.out.String(), "scheduler.conf exists") { // a local endpoint, unchanged
		t.Errorf("unexpected warning:\n%s", e.out)
	}
}
