package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

func TestCertificateKeyCommand(t *testing.T) {
	first, _, err := execute(t, "certs", "certificate-key")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).MatchString(first) {
		t.Errorf("certs certificate-key printed %q, want 64 hex digits and a newline", first)
	}
	second, _, _ := execute(t, "certs", "certificate-key")
	if first == second {
		t.Errorf("two keys are equal: %s", first)
	}
}

// TestCertsUploadDownloadRefuse: bad flags are refused before any file is
// read or any API server is called (the kubeconfig given is empty: a
// missing one is refused first, TestBadKubeconfigStopsFirst).
func TestCertsUploadDownloadRefuse(t *testing.T) {
	key := strings.Repeat("ab", 32)
	noKubeconfig := emptyKubeconfig(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"download without a key", []string{"certs", "download", "--kubeconfig", noKubeconfig}, []string{"--certificate-key", "empty"}},
		{"download with a short key", []string{"certs", "download", "--certificate-key", "abcd", "--kubeconfig", noKubeconfig}, []string{"--certificate-key", "2 bytes", "64 hex digits"}},
		{"upload with a non-hex key", []string{"certs", "upload", "--certificate-key", strings.Repeat("zz", 32), "--kubeconfig", noKubeconfig}, []string{"--certificate-key", "invalid certificate key"}},
		{"relative --cert-dir", []string{"certs", "download", "--certificate-key", key, "--cert-dir", "pki", "--kubeconfig", noKubeconfig}, []string{"--cert-dir", "not absolute"}},
		{"arguments", []string{"certs", "upload", "extra"}, []string{"unknown command"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := execute(t, tc.args...)
			treetest.ErrMentions(t, err, tc.want...)
		})
	}
}

// TestInitPhaseJoinConfiguration: with a JoinConfiguration, init-phase makes
// the joining node's own certificates from the cluster's CAs, and only the
// kubeconfig files kubeadm join makes; without the CAs it makes nothing.
func TestInitPhaseJoinConfiguration(t *testing.T) {
	cluster := pkitest.NewNode(t, nil)
	dir := t.TempDir()
	certDir := filepath.Join(dir, "pki")
	join := filepath.Join(t.TempDir(), "join.yaml")
	if err := os.WriteFile(join, []byte(`apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
nodeRegistration:
  name: cp-2
controlPlane:
  localAPIEndpoint:
    advertiseAddress: 198.51.100.12
discovery:
  file:
    kubeConfigPath: bootstrap.conf
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
encryptionAlgorithm: ECDSA-P256
certificatesDir: `+certDir+`
`), 0o600); err != nil {
		t.Fatal(err)
	}

	before := treetest.Snapshot(t, dir)
	_, _, err := execute(t, "init-phase", "certs", "all", "--config", join)
	treetest.ErrMentions(t, err, filepath.Join(certDir, "ca.crt")+" is missing", "certctl certs download --certificate-key")
	after := treetest.Snapshot(t, dir)
	delete(after, filepath.Join(dir, ".certctl.lock")) // certctl's lock, beside the folder: no data
	treetest.AssertSame(t, before, after)

	for _, f := range []string{"ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.pub", "sa.key", "etcd/ca.crt", "etcd/ca.key"} {
		data, err := os.ReadFile(filepath.Join(cluster.CertDir(), f))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(certDir, f)), 0o755)
		if err := os.WriteFile(filepath.Join(certDir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, errOut, err := execute(t, "init-phase", "certs", "all", "--config", join); err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := execute(t, "init-phase", "kubeconfig", "all", "--config", join, "--kubeconfig-dir", dir); err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	var confs []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".conf") {
			confs = append(confs, e.Name())
		}
	}
	if want := []string{"admin.conf", "controller-manager.conf", "scheduler.conf"}; !slices.Equal(confs, want) {
		t.Errorf("kubeconfig files %v, want kubeadm join's %v", confs, want)
	}
	// The node's name comes from the JoinConfiguration.
	out, _, err := execute(t, "certs", "list", "-o", "wide", "--cert-dir", certDir, "--kubeconfig-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "198.51.100.12") || !strings.Contains(out, "cp-2") {
		t.Errorf("certs list does not show the joining node's cp-2 and 198.51.100.12:\n%s", out)
	}
}

// TestCertsDownloadKeyOfConfig: without --certificate-key, certs download
// takes controlPlane.certificateKey of --config's JoinConfiguration, as
// kubeadm join does: checked before the API server is called (the
// kubeconfig given is empty), not refused as empty.
func TestCertsDownloadKeyOfConfig(t *testing.T) {
	dir := t.TempDir()
	noKubeconfig := emptyKubeconfig(t)
	for _, tc := range []struct {
		name, key string
		want      []string
	}{
		{"a valid key", strings.Repeat("ab", 32), []string{noKubeconfig}},
		{"a short key", "abcd", []string{"certificateKey of --config", "2 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			join := filepath.Join(dir, "join.yaml")
			if err := os.WriteFile(join, []byte(`apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
nodeRegistration:
  name: cp-2
controlPlane:
  certificateKey: "`+tc.key+`"
  localAPIEndpoint:
    advertiseAddress: 192.0.2.12
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
certificatesDir: `+filepath.Join(dir, "pki")+`
`), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := execute(t, "certs", "download", "--config", join, "--kubeconfig-dir", dir, "--kubeconfig", noKubeconfig)
			treetest.ErrMentions(t, err, tc.want...)
			if err != nil && strings.Contains(err.Error(), "empty") {
				t.Errorf("the key of --config was not used: %v", err)
			}
		})
	}
}

// TestCertsDownloadDiscoveryKubeconfig: without --kubeconfig, certs
// download connects with discovery.file.kubeConfigPath of --config's
// JoinConfiguration, as kubeadm join does, not with $KUBECONFIG or
// ~/.kube/config (which a joining node does not have: it said "no
// --kubeconfig ... pass --kubeconfig (on a control-plane node,
// /etc/kubernetes/admin.conf)"). --kubeconfig still wins.
func TestCertsDownloadDiscoveryKubeconfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", dir)
	bootstrap := filepath.Join(dir, "bootstrap.conf") // absent: the error names it
	join := filepath.Join(dir, "join.yaml")
	if err := os.WriteFile(join, []byte(`apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  file:
    kubeConfigPath: `+bootstrap+`
nodeRegistration:
  name: cp-2
controlPlane:
  localAPIEndpoint:
    advertiseAddress: 192.0.2.12
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
certificatesDir: `+filepath.Join(dir, "pki")+`
`), 0o600); err != nil {
		t.Fatal(err)
	}
	key := strings.Repeat("ab", 32)
	_, _, err := execute(t, "certs", "download", "--certificate-key", key, "--config", join, "--kubeconfig-dir", dir)
	treetest.ErrMentions(t, err, bootstrap)
	given := filepath.Join(dir, "given.conf")
	_, _, err = execute(t, "certs", "download", "--certificate-key", key, "--config", join, "--kubeconfig-dir", dir, "--kubeconfig", given)
	treetest.ErrMentions(t, err, given)
}

// TestInitPhaseJoinSaysDownloadWithConfig: on a joining node without the
// cluster's CAs, init-phase prints the `certs download` to run with the
// run's --config: with an external etcd, a download without it is refused
// (it does not know where etcd.external's files go), and the file may
// also hold the certificate key and the discovery kubeconfig. It printed
// only --cert-dir.
func TestInitPhaseJoinSaysDownloadWithConfig(t *testing.T) {
	dir := t.TempDir()
	certDir := filepath.Join(dir, "pki")
	join := filepath.Join(dir, "join.yaml")
	if err := os.WriteFile(join, []byte(`apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
nodeRegistration:
  name: cp-2
controlPlane:
  localAPIEndpoint:
    advertiseAddress: 198.51.100.12
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
certificatesDir: `+certDir+`
etcd:
  external:
    endpoints: [https://198.51.100.50:2379]
    caFile: `+filepath.Join(dir, "etcd", "ca.crt")+`
    certFile: `+filepath.Join(dir, "etcd", "client.crt")+`
    keyFile: `+filepath.Join(dir, "etcd", "client.key")+`
`), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "`certctl certs download --certificate-key KEY --config " + join + "`"
	_, _, err := execute(t, "init-phase", "certs", "all", "--config", join)
	treetest.ErrMentions(t, err, filepath.Join(certDir, "ca.crt")+" is missing", want)
	_, _, err = execute(t, "init-phase", "kubeconfig", "admin", "--config", join, "--kubeconfig-dir", dir)
	treetest.ErrMentions(t, err, want[:len(want)-1]+" --kubeconfig-dir "+dir+"`")
}

// TestCertificateKeyFromStdin: --certificate-key - takes the key from
// standard input, where ps does not show it, for certs upload, certs
// download and ca rotate: a key read there is checked as one given on the
// command line, and an empty input is refused before any API server is
// called (the kubeconfig given does not exist).
func TestCertificateKeyFromStdin(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	noKubeconfig := filepath.Join(t.TempDir(), "none.conf")
	key := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string // in the error
	}{
		{"download, a short key", "abcd\n", []string{"certs", "download"}, "--certificate-key: invalid certificate key: 2 bytes"},
		{"upload, not hex", strings.Repeat("zz", 32) + "\n", []string{"certs", "upload"}, "--certificate-key: invalid certificate key"},
		{"download, nothing", "", []string{"certs", "download"}, "--certificate-key -: standard input holds no key"},
		{"ca rotate, nothing", "", []string{"ca", "rotate", "ca", "--kubeconfig-dir", n.Dir}, "--certificate-key -: standard input holds no key"},
		{"download, the key", key + "\n", []string{"certs", "download"}, noKubeconfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			root := NewRootCommand(&out, &errOut)
			root.SetIn(strings.NewReader(tc.stdin))
			kubeconfig := noKubeconfig
			if tc.args[0] == "ca" { // ca rotate refuses a missing --kubeconfig first (TestBadKubeconfigStopsFirst)
				kubeconfig = n.Path("admin.conf")
			}
			root.SetArgs(append(tc.args, "--certificate-key", "-", "--cert-dir", n.CertDir(), "--kubeconfig", kubeconfig))
			err := root.Execute()
			treetest.ErrMentions(t, err, tc.want)
		})
	}
}

// emptyKubeconfig is a kubeconfig file that names no API server: a
// command given it as --kubeconfig calls none, and fails only when it
// makes its client, after checking its flags and settings.
func emptyKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "no-server.conf")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
