// Package cli runs the certctl binary as users and cron do: it kills
// `renew all` at random instants and checks, with openssl, that the next
// certctl command leaves every certificate matching its key and CA and no
// staging or temporary file behind; and it feeds every kind of bad input to
// renew and check-expiration.
package cli

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/certctl/certctl/internal/testcluster"
)

// certctlBin returns the certctl under test (testcluster.CertctlBinary).
// TestBadInputs runs it as nobody: the repository's _output is world-readable.
func certctlBin(t *testing.T) string {
	t.Helper()
	bin, err := testcluster.CertctlBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// run runs certctl and returns its combined output; it fails the test on a
// non-zero exit.
func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("certctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// runOut runs certctl, which must succeed, and returns its stdout only:
// what -o json, yaml and jsonpath print (stderr says where the settings
// came from).
func runOut(t *testing.T, bin string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("certctl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// node is a control-plane node's /etc/kubernetes made by certctl.
type node struct {
	dir, certDir string
}

func (n node) flags() []string {
	return []string{"--cert-dir", n.certDir, "--kubeconfig-dir", n.dir}
}

func makeNode(t *testing.T, bin, alg string) node {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "etc-kubernetes")
	n := node{dir: dir, certDir: filepath.Join(dir, "pki")}
	id := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", alg}
	run(t, bin, append([]string{"init-phase", "certs", "all", "--cert-dir", n.certDir}, id...)...)
	run(t, bin, append(append([]string{"init-phase", "kubeconfig", "all"}, n.flags()...), id...)...)
	return n
}

// pair is a certificate and its key, as files, with the CA it must chain to.
type pair struct {
	name, cert, key, ca string
}

var leaves = []struct{ base, ca string }{
	{"apiserver", "ca"}, {"apiserver-kubelet-client", "ca"}, {"front-proxy-client", "front-proxy-ca"},
	{"etcd/server", "etcd/ca"}, {"etcd/peer", "etcd/ca"}, {"etcd/healthcheck-client", "etcd/ca"},
	{"apiserver-etcd-client", "etcd/ca"},
}

var kubeconfigs = []string{"admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"}

// pairs lists every certificate of the node as files: the cert folder's,
// and the kubeconfigs' embedded ones extracted into scratch. It fails the
// test when a kubeconfig's CA data is not ca.crt.
func (n node) pairs(t *testing.T, scratch string) []pair {
	t.Helper()
	var out []pair
	for _, l := range leaves {
		out = append(out, pair{l.base, filepath.Join(n.certDir, l.base+".crt"), filepath.Join(n.certDir, l.base+".key"),
			filepath.Join(n.certDir, l.ca+".crt")})
	}
	return append(out, n.kubeconfigPairs(t, scratch)...)
}

// kubeconfigPairs is pairs' part for the kubeconfigs.
func (n node) kubeconfigPairs(t *testing.T, scratch string) []pair {
	t.Helper()
	var out []pair
	caPEM, err := os.ReadFile(filepath.Join(n.certDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kubeconfigs {
		cert, key, ca := embedded(t, filepath.Join(n.dir, k))
		if !bytes.Equal(ca, caPEM) {
			t.Errorf("%s: certificate-authority-data is not ca.crt", k)
		}
		p := pair{k, filepath.Join(scratch, k+".crt"), filepath.Join(scratch, k+".key"), filepath.Join(n.certDir, "ca.crt")}
		if err := os.WriteFile(p.cert, cert, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p.key, key, 0o600); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// embedded returns a kubeadm kubeconfig's client certificate, key and CA,
// read with a plain YAML parser rather than certctl's own code.
func embedded(t *testing.T, path string) (cert, key, ca []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kc struct {
		Clusters []struct {
			Cluster map[string]string `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			User map[string]string `json:"user"`
		} `json:"users"`
	}
	if err := yaml.Unmarshal(data, &kc); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if len(kc.Clusters) != 1 || len(kc.Users) != 1 {
		t.Fatalf("%s: %d clusters and %d users, want kubeadm's 1 and 1", path, len(kc.Clusters), len(kc.Users))
	}
	dec := func(s string) []byte {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return b
	}
	return dec(kc.Users[0].User["client-certificate-data"]), dec(kc.Users[0].User["client-key-data"]), dec(kc.Clusters[0].Cluster["certificate-authority-data"])
}

// verifyOpenSSL checks with openssl that each certificate holds its key's
// public key and chains to its CA.
//
// The key check is `openssl pkcs12 -export`, which refuses a key that is
// not the certificate's (X509_check_private_key compares the public key
// parts): one process per pair instead of two for comparing
// `openssl x509 -pubkey` with `openssl pkey -pubout`, which matters at
// 11 pairs x 200 kills. The processes run in parallel.
func verifyOpenSSL(t *testing.T, pairs []pair) {
	t.Helper()
	type call struct {
		args []string
		out  string
		err  error
	}
	var calls []*call
	byCA := map[string][]string{}
	for _, p := range pairs {
		calls = append(calls, &call{args: []string{"pkcs12", "-export", "-in", p.cert, "-inkey", p.key, "-passout", "pass:", "-out", os.DevNull}})
		byCA[p.ca] = append(byCA[p.ca], p.cert)
	}
	cas := slices.Sorted(maps.Keys(byCA))
	for _, ca := range cas {
		// One openssl verify per CA, for all its certificates.
		calls = append(calls, &call{args: append([]string{"verify", "-CAfile", ca}, byCA[ca]...)})
	}
	sem := make(chan struct{}, 2*runtime.NumCPU())
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out, err := exec.Command("openssl", c.args...).CombinedOutput()
			c.out, c.err = string(out), err
		}()
	}
	wg.Wait()
	for i, p := range pairs {
		if c := calls[i]; c.err != nil {
			t.Errorf("%s: the certificate %s does not match the key %s: openssl %s: %v\n%s", p.name, p.cert, p.key, strings.Join(c.args, " "), c.err, c.out)
		}
	}
	for i, ca := range cas {
		c := calls[len(pairs)+i]
		if strings.Count(c.out, ": OK") != len(byCA[ca]) {
			t.Errorf("openssl verify -CAfile %s: %s", ca, c.out)
		}
	}
}

// leftovers lists staging folders, temporary files and backup folders
// without backup.json (a transaction makes its backup folder before it
// commits, and must remove it when it is discarded) under dir.
func leftovers(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			out = append(out, p+": "+err.Error())
			return nil
		}
		if d.Name() == ".certctl-txn" || strings.Contains(d.Name(), ".tmp-") {
			out = append(out, p)
		}
		if d.IsDir() && filepath.Base(filepath.Dir(p)) == "certctl-backups" {
			if _, err := os.Stat(filepath.Join(p, "backup.json")); err != nil {
				out = append(out, p+" (a backup folder without backup.json)")
			}
		}
		return nil
	})
	return out
}

// serials returns each certificate's serial number, keyed by pair name.
func serials(t *testing.T, pairs []pair) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range pairs {
		out[p.name] = serialOf(t, p.cert)
	}
	return out
}

func serialOf(t *testing.T, path string) string {
	t.Helper()
	return parseCert(t, path).SerialNumber.String()
}

func notAfter(t *testing.T, path string) time.Time {
	t.Helper()
	return parseCert(t, path).NotAfter
}

func parseCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// nobody is the user certctl runs as to meet permissions, which root
// ignores.
var nobody = &syscall.Credential{Uid: 65534, Gid: 65534}

// giveToNobody makes the node nobody's, and the folders above it, up to
// the system's temporary folder, searchable by nobody. It skips the test
// when not root.
func giveToNobody(t *testing.T, n node) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("running certctl as another user needs root")
	}
	for d := filepath.Dir(n.dir); d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.WalkDir(n.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(nobody.Uid), int(nobody.Gid))
	})
	if err != nil {
		t.Fatal(err)
	}
	return nobody
}

// runAll runs certctl, as cred when not nil, and returns its exit status,
// stdout and stderr.
func runAll(t *testing.T, cred *syscall.Credential, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run certctl: %v", err)
	}
	return cmd.ProcessState.ExitCode(), o.String(), e.String()
}
