package main

// These tests run the built certctl binary, as a user would, and check its
// output with an independent verifier: openssl.

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/spf13/cobra"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"sigs.k8s.io/yaml"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/lock"
)

// TestMain gives SIGINT and SIGTERM back to Go's default in the test
// binary, which links package early: its init catches them for certctl,
// and a Ctrl-C of go test would otherwise leave this binary running.
func TestMain(m *testing.M) {
	signal.Reset(os.Interrupt, syscall.SIGTERM)
	os.Exit(m.Run())
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// certctl returns the binary under test: $CERTCTL_BIN (set by the Makefile)
// or one built once for this test process.
func certctl(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("CERTCTL_BIN"); p != "" {
			binPath = p
			return
		}
		dir, err := os.MkdirTemp("", "certctl-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "certctl")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type result struct {
	stdout, stderr string
	code           int
}

func runBin(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(certctl(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errOut.String(), code}
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	r := runBin(t, args...)
	if r.code != 0 {
		t.Fatalf("certctl %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func openssl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

var nodeFlags = []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10"}

var leaves = map[string]string{ // leaf base name -> CA base name
	"apiserver": "ca", "apiserver-kubelet-client": "ca", "front-proxy-client": "front-proxy-ca",
	"etcd/server": "etcd/ca", "etcd/peer": "etcd/ca", "etcd/healthcheck-client": "etcd/ca", "apiserver-etcd-client": "etcd/ca",
}

// checkPair verifies with openssl that cert chains to ca and that key is
// the private key of cert.
func checkPair(t *testing.T, cert, key, ca string) {
	t.Helper()
	if out := openssl(t, "verify", "-CAfile", ca, cert); !strings.Contains(out, ": OK") {
		t.Errorf("openssl verify %s: %s", cert, out)
	}
	certPub := openssl(t, "x509", "-noout", "-pubkey", "-in", cert)
	keyPub := openssl(t, "pkey", "-pubout", "-in", key)
	if certPub != keyPub {
		t.Errorf("%s does not match %s (openssl)", cert, key)
	}
}

func TestInitPhaseAllVerifiesWithOpenSSL(t *testing.T) {
	for _, alg := range []string{"RSA-2048", "ECDSA-P384"} {
		t.Run(alg, func(t *testing.T) {
			dir := t.TempDir()
			pkiDir := filepath.Join(dir, "pki")
			args := append([]string{"--cert-dir", pkiDir, "--encryption-algorithm", alg}, nodeFlags...)
			mustRun(t, append([]string{"init-phase", "certs", "all"}, args...)...)
			mustRun(t, append([]string{"init-phase", "kubeconfig", "all", "--kubeconfig-dir", dir}, args...)...)
			for _, ca := range []string{"ca", "front-proxy-ca", "etcd/ca"} {
				checkPair(t, filepath.Join(pkiDir, ca+".crt"), filepath.Join(pkiDir, ca+".key"), filepath.Join(pkiDir, ca+".crt"))
			}
			for leaf, ca := range leaves {
				checkPair(t, filepath.Join(pkiDir, leaf+".crt"), filepath.Join(pkiDir, leaf+".key"), filepath.Join(pkiDir, ca+".crt"))
			}
			if a, b := openssl(t, "pkey", "-pubout", "-in", filepath.Join(pkiDir, "sa.key")), openssl(t, "pkey", "-pubin", "-pubout", "-in", filepath.Join(pkiDir, "sa.pub")); a != b {
				t.Error("sa.pub is not the public key of sa.key")
			}
			for _, kc := range []string{"admin", "super-admin", "kubelet", "controller-manager", "scheduler"} {
				cert, key := extractKubeconfig(t, filepath.Join(dir, kc+".conf"), t.TempDir())
				checkPair(t, cert, key, filepath.Join(pkiDir, "ca.crt"))
			}
			text := openssl(t, "x509", "-noout", "-text", "-in", filepath.Join(pkiDir, "apiserver.crt"))
			for _, want := range []string{"TLS Web Server Authentication", "Digital Signature, Key Encipherment", "CA:FALSE", "DNS:kubernetes.default.svc.cluster.local", "IP Address:10.96.0.1"} {
				if !strings.Contains(text, want) {
					t.Errorf("apiserver.crt lacks %q", want)
				}
			}
		})
	}
}

// extractKubeconfig writes the embedded client cert and key of a kubeconfig
// to files for openssl.
func extractKubeconfig(t *testing.T, path, dir string) (cert, key string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kc struct {
		Users []struct {
			User struct {
				Cert string `json:"client-certificate-data"`
				Key  string `json:"client-key-data"`
			} `json:"user"`
		} `json:"users"`
	}
	if err := yaml.Unmarshal(data, &kc); err != nil || len(kc.Users) != 1 {
		t.Fatalf("%s: %v (%d users)", path, err, len(kc.Users))
	}
	cert, key = filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	for p, b64 := range map[string]string{cert: kc.Users[0].User.Cert, key: kc.Users[0].User.Key} {
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cert, key
}

func TestUseCSRVerifiesWithOpenSSL(t *testing.T) {
	dir := t.TempDir()
	csrDir := filepath.Join(dir, "csr")
	out := mustRun(t, append([]string{"init-phase", "certs", "all", "--use-csr", "--csr-dir", csrDir, "--cert-dir", filepath.Join(dir, "pki")}, nodeFlags...)...)
	if !strings.Contains(out, `Skipping "ca"`) {
		t.Errorf("CAs not reported as skipped:\n%s", out)
	}
	for leaf := range leaves {
		csr, key := filepath.Join(csrDir, leaf+".csr"), filepath.Join(csrDir, leaf+".key")
		if v := openssl(t, "req", "-verify", "-noout", "-in", csr); !strings.Contains(v, "verify OK") && !strings.Contains(v, "Certificate request self-signature verify OK") {
			t.Errorf("openssl req -verify %s: %s", csr, v)
		}
		if openssl(t, "req", "-noout", "-pubkey", "-in", csr) != openssl(t, "pkey", "-pubout", "-in", key) {
			t.Errorf("%s does not match %s", csr, key)
		}
	}
	subj := openssl(t, "req", "-noout", "-subject", "-in", filepath.Join(csrDir, "apiserver-etcd-client.csr"))
	if !strings.Contains(subj, "CN = kube-apiserver-etcd-client") || strings.Contains(subj, "O =") {
		t.Errorf("subject = %s", subj)
	}
	if _, err := os.Stat(filepath.Join(dir, "pki")); !os.IsNotExist(err) {
		t.Error("--use-csr wrote into the cert dir")
	}
}

// snapshot hashes every file under dir, except certctl's lock file: a
// writing command creates it beside the cert dir before it checks anything.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() == lock.FileName {
			return nil
		}
		info, _ := d.Info()
		if d.IsDir() {
			m[p] = "dir " + info.Mode().String()
			return nil
		}
		b, _ := os.ReadFile(p)
		m[p] = fmt.Sprintf("%v %x", info.Mode(), sha256.Sum256(b))
		return nil
	})
	return m
}

// TestBadInput: every bad input is refused with a one-line error naming the
// problem, a non-zero exit, and a folder byte-identical to before.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name    string
		config  string // written to kubeadm.yaml when set
		args    []string
		prepare func(t *testing.T, dir string)
		want    []string
	}{
		{name: "bad CIDR", args: []string{"--service-cidr", "10.96.0.0/40"}, want: []string{"serviceSubnet", "10.96.0.0/40"}},
		{name: "bad IP", args: []string{"--apiserver-advertise-address", "10.0.0.300"}, want: []string{"advertiseAddress", "10.0.0.300"}},
		{name: "unknown algorithm", args: []string{"--encryption-algorithm", "RSA-1024"}, want: []string{"encryptionAlgorithm", "RSA-1024"}},
		{name: "bad SAN", args: []string{"--apiserver-cert-extra-sans", "ok.example.com,not_valid!"}, want: []string{"not_valid!"}},
		{name: "unreadable config file", args: []string{"--config", "/nonexistent/kubeadm.yaml"}, want: []string{"/nonexistent/kubeadm.yaml"}},
		{name: "config file is a folder", args: []string{"--config", "/"}, want: []string{"read config file /"}},
		{name: "malformed YAML", config: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: [ClusterConfiguration\n", want: []string{"kubeadm.yaml", "malformed YAML"}},
		{name: "bad CIDR in config", config: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  serviceSubnet: nonsense\n", want: []string{"kubeadm.yaml", "serviceSubnet"}},
		{name: "unknown algorithm in config", config: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nencryptionAlgorithm: ED25519\n", want: []string{"encryptionAlgorithm", "ED25519"}},
		{name: "use-csr without csr-dir", args: []string{"--use-csr"}, want: []string{"--csr-dir"}},
		{name: "CA phase as CSR", args: []string{"--use-csr", "--csr-dir", "csr", "ca"}, want: []string{`"ca" cannot be produced as a CSR`}},
		{name: "unknown phase", args: []string{"apiservr"}, want: []string{`"apiservr"`, "valid phases are all, ca, apiserver"}},
		{
			name: "key does not match its cert",
			prepare: func(t *testing.T, dir string) {
				mustRun(t, append([]string{"init-phase", "certs", "all", "--cert-dir", filepath.Join(dir, "pki"), "--encryption-algorithm", "ECDSA-P256"}, nodeFlags...)...)
				b, _ := os.ReadFile(filepath.Join(dir, "pki", "etcd", "peer.key"))
				os.WriteFile(filepath.Join(dir, "pki", "etcd", "server.key"), b, 0o600)
			},
			want: []string{"etcd/server.crt", "etcd/server.key", "does not match"},
		},
		{
			name: "leaf whose CA is missing",
			prepare: func(t *testing.T, dir string) {
				mustRun(t, append([]string{"init-phase", "certs", "all", "--cert-dir", filepath.Join(dir, "pki"), "--encryption-algorithm", "ECDSA-P256"}, nodeFlags...)...)
				os.Remove(filepath.Join(dir, "pki", "front-proxy-ca.crt"))
				os.Remove(filepath.Join(dir, "pki", "front-proxy-ca.key"))
			},
			args: []string{"front-proxy-client"},
			want: []string{"front-proxy-client.crt", "front-proxy-ca.crt"},
		},
		{
			name: "external CA and a leaf to sign",
			prepare: func(t *testing.T, dir string) {
				mustRun(t, append([]string{"init-phase", "certs", "all", "--cert-dir", filepath.Join(dir, "pki"), "--encryption-algorithm", "ECDSA-P256"}, nodeFlags...)...)
				for _, f := range []string{"ca.key", "apiserver.crt", "apiserver.key"} {
					os.Remove(filepath.Join(dir, "pki", f))
				}
			},
			want: []string{"apiserver.crt", "ca.key", "--use-csr"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"init-phase", "certs", "--cert-dir", filepath.Join(dir, "pki")}
			if !hasFlag(tt.args, "--apiserver-advertise-address") {
				args = append(args, nodeFlags...)
			}
			if tt.config != "" {
				p := filepath.Join(dir, "kubeadm.yaml")
				os.WriteFile(p, []byte(tt.config), 0o644)
				args = append(args, "--config", p)
			}
			if tt.prepare != nil {
				tt.prepare(t, dir)
			}
			args = append(args, tt.args...)
			before := snapshot(t, dir)
			cmd := exec.Command(certctl(t), args...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() == 0 {
				t.Fatalf("exit status: %v, want non-zero\n%s", err, out)
			}
			errLine := ""
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if strings.HasPrefix(l, "error: ") {
					errLine = l
				}
			}
			if errLine == "" {
				t.Fatalf("no one-line error in output:\n%s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errLine, w) {
					t.Errorf("error %q does not mention %q", errLine, w)
				}
			}
			after := snapshot(t, dir)
			if fmt.Sprint(before) != fmt.Sprint(after) {
				t.Errorf("folder changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

func hasFlag(args []string, f string) bool {
	for _, a := range args {
		if a == f {
			return true
		}
	}
	return false
}

func TestVersionAndCompletion(t *testing.T) {
	if out := mustRun(t, "version", "-o", "short"); strings.TrimSpace(out) == "" {
		t.Error("empty version")
	}
	if out := mustRun(t, "completion", "bash"); !strings.Contains(out, "__start_certctl") {
		t.Error("bash completion script lacks its entry function")
	}
	if out := mustRun(t, "init-phase", "certs", "--help"); !strings.Contains(out, "Phases: all, ca, apiserver,") || !strings.Contains(out, "--use-csr") {
		t.Errorf("help text:\n%s", out)
	}
}

// TestPanicExitsFailure: a command that panics ends with exit status 1
// and one line saying it is a bug, not Go's status 2, which renew's timer
// counts as success and monitoring reads as "expires soon".
func TestPanicExitsFailure(t *testing.T) {
	root := &cobra.Command{Use: "certctl", SilenceUsage: true, RunE: func(*cobra.Command, []string) error { panic("boom") }}
	root.SetArgs(nil)
	var errOut bytes.Buffer
	if code := run(root, nil, &errOut); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if first, _, _ := strings.Cut(errOut.String(), "\n"); !strings.HasPrefix(first, "error: internal error: boom: this is a bug of certctl") {
		t.Errorf("first line %q, want the internal error", first)
	}
}

// TestSignalBeforeCommand: a SIGINT or SIGTERM that came while certctl
// started (caught by package early's init, while client-go's packages
// were initialised or the commands built) was Go's default death, status
// 143 for SIGTERM. Now the command is not run at all, and certctl exits
// 143 (SIGTERM) saying that nothing was changed.
func TestSignalBeforeCommand(t *testing.T) {
	ran := false
	root := &cobra.Command{Use: "certctl", SilenceUsage: true, RunE: func(*cobra.Command, []string) error { ran = true; return nil }}
	root.SetArgs(nil)
	caught := make(chan os.Signal, 1)
	caught <- syscall.SIGTERM
	var errOut bytes.Buffer
	if code := run(root, caught, &errOut); code != exitcode.Terminated {
		t.Errorf("exit status %d, want %d", code, exitcode.Terminated)
	}
	if ran {
		t.Error("the command ran after the signal")
	}
	if got := errOut.String(); got != "error: interrupted; nothing was changed\n" {
		t.Errorf("stderr %q, want the one line that nothing was changed", got)
	}
}

// TestGoroutinePanicExitsFailure: a panic in another goroutine that ends
// with utilruntime.HandleCrash (client-go's, the signer's workers, the
// fsyncs of a renewal) exits 1 too, through main's handler.
func TestGoroutinePanicExitsFailure(t *testing.T) {
	if os.Getenv("CERTCTL_TEST_GOROUTINE_PANIC") == "1" {
		root := &cobra.Command{Use: "certctl", RunE: func(*cobra.Command, []string) error {
			go func() {
				defer utilruntime.HandleCrash()
				panic("boom")
			}()
			select {}
		}}
		root.SetArgs(nil)
		exitcode.OnGoroutinePanic(os.Stderr, os.Exit)
		os.Exit(run(root, nil, os.Stderr))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGoroutinePanicExitsFailure$")
	cmd.Env = append(os.Environ(), "CERTCTL_TEST_GOROUTINE_PANIC=1")
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1\n%s", err, errOut.String())
	}
	if first, _, _ := strings.Cut(errOut.String(), "\n"); !strings.HasPrefix(first, "error: internal error: boom: this is a bug of certctl") {
		t.Errorf("first line %q, want the internal error", first)
	}
}
