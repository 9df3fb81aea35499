package cmd

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// writeCA writes a self-signed CA as ca.crt/ca.key into dir.
func writeCA(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.NewSelfSignedCA(rand.Reader, pki.Profile{Name: "ca", CommonName: "kubernetes", IsCA: true}, key,
		pki.NewValidity(time.Now(), time.Minute, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	s := pki.Store{Dir: dir}
	if err := s.WriteCert("ca", cert); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteKey("ca", key); err != nil {
		t.Fatal(err)
	}
}

func runCertctl(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRootCommand(&out, &errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

func TestSignerEnableDisable(t *testing.T) {
	dir := t.TempDir()
	certDir := filepath.Join(dir, "pki")
	manifestDir := filepath.Join(dir, "manifests")
	manifest := filepath.Join(manifestDir, "kube-controller-manager.yaml")
	backups := filepath.Join(dir, "backups")
	orig, err := os.ReadFile(filepath.Join("..", "manifests", "testdata", "kubeadm-external-ca.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(manifestDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	read := func() []byte {
		data, err := os.ReadFile(manifest)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	flags := []string{"--manifest", manifest, "--backup-dir", backups}

	// No CA yet: a clear error, nothing changed.
	_, _, err = runCertctl(t, append([]string{"signer", "enable", "--cert-dir", certDir}, flags...)...)
	if err == nil || !strings.Contains(err.Error(), "check the cluster CA") || !strings.Contains(err.Error(), "not changed") {
		t.Fatalf("enable without a CA: err = %v", err)
	}
	if !bytes.Equal(read(), orig) {
		t.Fatal("enable without a CA changed the manifest")
	}

	writeCA(t, certDir)
	out, _, err := runCertctl(t, "signer", "enable", "--cert-dir", certDir, "--dry-run", "--manifest", manifest)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "+    - --cluster-signing-cert-file="+filepath.Join(certDir, "ca.crt")) ||
		!strings.Contains(out, "-    - --cluster-signing-cert-file=\n") || !strings.Contains(out, "[dry-run]") {
		t.Errorf("dry-run output is not the expected diff:\n%s", out)
	}
	if !bytes.Equal(read(), orig) {
		t.Fatal("--dry-run changed the manifest")
	}

	out, _, err = runCertctl(t, append([]string{"signer", "enable", "--cert-dir", certDir}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	enabled := read()
	if !strings.Contains(string(enabled), "--cluster-signing-key-file="+filepath.Join(certDir, "ca.key")) || !strings.Contains(string(enabled), "name: certctl-signing-ca") {
		t.Errorf("enabled manifest:\n%s", enabled)
	}
	backup, err := os.ReadFile(filepath.Join(backups, "kube-controller-manager.yaml"))
	if err != nil || !bytes.Equal(backup, orig) {
		t.Errorf("backup: %v, same as the original: %v", err, bytes.Equal(backup, orig))
	}
	if st, err := os.Stat(manifest); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("manifest mode: %v %v, want 0600 kept", st.Mode(), err)
	}
	entries, _ := os.ReadDir(manifestDir)
	if len(entries) != 1 {
		t.Errorf("manifest folder holds %d files, want only the manifest (no backup, no temp file)", len(entries))
	}
	if !strings.Contains(out, "[signer] Wrote") {
		t.Errorf("output: %s", out)
	}

	out, _, err = runCertctl(t, append([]string{"signer", "enable", "--cert-dir", certDir}, flags...)...)
	if err != nil || !strings.Contains(out, "nothing to do") || !bytes.Equal(read(), enabled) {
		t.Errorf("second enable: %v, %q", err, out)
	}

	_, _, err = runCertctl(t, "signer", "disable", "--manifest", manifest, "--backup-dir", manifestDir)
	if err == nil || !strings.Contains(err.Error(), "kubelet would run the backup") {
		t.Errorf("backup into the manifest folder: err = %v", err)
	}
	if _, _, err := runCertctl(t, append([]string{"signer", "disable"}, flags...)...); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read(), orig) {
		t.Errorf("disable(enable(external-CA manifest)) differs from the original:\n%s", read())
	}

	if err := os.WriteFile(manifest, []byte("apiVersion: v1\nkind: Pod\nspec: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = runCertctl(t, append([]string{"signer", "enable", "--cert-dir", certDir}, flags...)...)
	if err == nil || !strings.Contains(err.Error(), "nothing changed") {
		t.Errorf("malformed manifest: err = %v", err)
	}
}

func TestSignerRunFlags(t *testing.T) {
	dir := t.TempDir()
	writeCA(t, dir)
	// An empty --kubeconfig is readable, so the flag's own check passes
	// (a missing one stops the command first: TestBadKubeconfigStopsFirst);
	// with --config the kubeadm-config ConfigMap is not read, so it fails
	// only the API client, after the CAs and nodes are checked.
	kubeconfig := filepath.Join(dir, "empty.conf")
	if err := os.WriteFile(kubeconfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	node := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "192.0.2.10", "--kubeconfig", kubeconfig}
	cfg := filepath.Join(dir, "kubeadm.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	node = append(node, "--config", cfg)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"cert-dir and CA flags", []string{"--cert-dir", dir, "--ca-cert", filepath.Join(dir, "ca.crt"), "--ca-key", filepath.Join(dir, "ca.key")}, "use one or the other"},
		{"half a pair", []string{"--etcd-ca-cert", filepath.Join(dir, "ca.crt")}, "--etcd-ca-cert and --etcd-ca-key name one CA, etcd-ca: give both"},
		{"no CA at all", []string{"--cert-dir", filepath.Join(dir, "empty")}, "no CA to sign with"},
		{"bad CA", []string{"--ca-cert", filepath.Join(dir, "ca.key"), "--ca-key", filepath.Join(dir, "ca.key")}, "load CA \"ca\""},
		{"bad node", []string{"--cert-dir", dir, "--control-plane-node", "cp-2"}, "want NAME=IP"},
		{"negative reload interval", []string{"--cert-dir", dir, "--ca-reload-interval", "-1m"}, "--ca-reload-interval -1m0s is negative"},
		// The CAs load; the next step, the API client, fails on the empty kubeconfig.
		{"CA flags", []string{"--ca-cert", filepath.Join(dir, "ca.crt"), "--ca-key", filepath.Join(dir, "ca.key")}, "empty.conf"},
		{"cert dir", []string{"--cert-dir", dir, "--control-plane-node", "cp-1=192.0.2.10", "--control-plane-node", "cp-2=192.0.2.11"}, "empty.conf"},
		{"reloading off", []string{"--cert-dir", dir, "--ca-reload-interval", "0"}, "empty.conf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCertctl(t, append(append([]string{"signer", "run"}, node...), tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestSignerRunNodeFlagFirst: a --control-plane-node that is not NAME=IP
// is refused before the settings are read, with signer run's other flags
// (signer.ServeOptions.Check): without --config that read asks the API
// server for the kubeadm-config ConfigMap, which can take 5 s, and only
// then was the flag refused. A --kubeconfig that is missing, which would stop that
// read, shows the order.
func TestSignerRunNodeFlagFirst(t *testing.T) {
	dir := t.TempDir()
	writeCA(t, dir)
	_, stderr, err := runCertctl(t, "signer", "run", "--cert-dir", dir, "--listen-address", "127.0.0.1:0",
		"--kubeconfig", filepath.Join(dir, "missing.conf"), "--control-plane-node", "cp-2")
	if want := `invalid --control-plane-node "cp-2": want NAME=IP`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want one starting %q", err, want)
	}
	if stderr != "" {
		t.Errorf("said before the error:\n%s", stderr)
	}
}

// TestSignerEnableConfig: signer enable takes the cluster CA's folder from
// --config (certificatesDir) as the other commands that read the node do.
func TestSignerEnableConfig(t *testing.T) {
	certDir := filepath.Join(t.TempDir(), "pki")
	cfg := filepath.Join(t.TempDir(), "kubeadm.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: "+certDir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(t.TempDir(), "kube-controller-manager.yaml")
	_, _, err := runCertctl(t, "signer", "enable", "--config", cfg, "--manifest", manifest, "--dry-run")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(certDir, "ca.crt")) {
		t.Errorf("signer enable --config: %v; want the CA of certificatesDir, %s", err, filepath.Join(certDir, "ca.crt"))
	}
}

// TestApproveSignNodeFlagFirst: approve and sign refuse a
// --control-plane-node that is not NAME=IP before they read the settings,
// the CA or the CSR, as signer run does: those reads can wait for the API
// server, and sign met the flag only for a CSR of certctl's names.
func TestApproveSignNodeFlagFirst(t *testing.T) {
	dir := t.TempDir()
	writeCA(t, dir)
	kubeconfig := filepath.Join(dir, "empty.conf") // readable: the flag's own check passes
	if err := os.WriteFile(kubeconfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"approve", "csr-1", "--config", filepath.Join(dir, "missing.yaml")},
		{"sign", "csr-1", "--cert-dir", dir, "--ca-cert", filepath.Join(dir, "ca.crt"), "--ca-key", filepath.Join(dir, "ca.key")},
	} {
		t.Run(args[0], func(t *testing.T) {
			_, stderr, err := runCertctl(t, append(args, "--kubeconfig", kubeconfig, "--control-plane-node", "cp-2")...)
			if want := `invalid --control-plane-node "cp-2": want NAME=IP`; err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %v, want one starting %q", err, want)
			}
			if stderr != "" {
				t.Errorf("said before the error:\n%s", stderr)
			}
		})
	}
}
