package promrules

import (
	"bytes"
	"cmp"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// repoRoot is certctl's repository: this module is test/promrules in it.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !strings.HasPrefix(string(data), "module github.com/certctl/certctl\n") {
		t.Fatalf("%s is not certctl's repository (run the test from test/promrules): %v", root, err)
	}
	return root
}

// certctlBin returns the certctl under test as test/cli finds it
// (internal/testcluster.CertctlBinary, which this module cannot import
// without all of certctl's modules): $CERTCTL_BIN, a relative path taken
// from the repository root, else one built from the repository once per
// test process.
func certctlBin(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	bin := os.Getenv("CERTCTL_BIN")
	if bin == "" {
		bin, err := buildCertctl(root)
		if err != nil {
			t.Fatal(err)
		}
		return bin
	}
	if !filepath.IsAbs(bin) {
		bin = filepath.Join(root, bin)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("find certctl binary: %v (build it with `make build`, or unset CERTCTL_BIN to build it on the fly)", err)
	}
	return bin
}

// built is certctl built from the repository, once per test process.
var built struct {
	once sync.Once
	bin  string
	err  error
}

func buildCertctl(root string) (string, error) {
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "promrules-certctl-")
		if err != nil {
			built.err = err
			return
		}
		built.bin = filepath.Join(dir, "certctl")
		cmd := exec.Command(cmp.Or(os.Getenv("GO"), "go"), "build", "-o", built.bin, "./cmd/certctl")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("build certctl: %w\n%s", err, out)
		}
	})
	return built.bin, built.err
}

// node is a control-plane node's /etc/kubernetes, made by certctl in a
// temporary folder.
type node struct {
	dir, certDir string
}

func (n node) flags() []string { return []string{"--cert-dir", n.certDir, "--kubeconfig-dir", n.dir} }

// makeNode runs init-phase certs and kubeconfig as test/cli's makeNode
// does, in a temporary folder.
func makeNode(t *testing.T, bin string) node {
	t.Helper()
	return makeNodeIn(t, bin, filepath.Join(t.TempDir(), "etc-kubernetes"))
}

// makeNodeIn is makeNode in dir, which may already have some of the
// certificates: init-phase keeps them.
func makeNodeIn(t *testing.T, bin, dir string) node {
	t.Helper()
	n := node{dir: dir, certDir: filepath.Join(dir, "pki")}
	id := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256"}
	run(t, bin, 0, append([]string{"init-phase", "certs", "all", "--cert-dir", n.certDir}, id...)...)
	run(t, bin, 0, append(append([]string{"init-phase", "kubeconfig", "all"}, n.flags()...), id...)...)
	return n
}

// run runs certctl, which must exit with status code, and returns its
// stdout.
func run(t *testing.T, bin string, code int, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	got := 0
	var exit *exec.ExitError
	if err := cmd.Run(); errors.As(err, &exit) {
		got = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("certctl %s: %v", strings.Join(args, " "), err)
	}
	if got != code {
		t.Fatalf("certctl %s: exit %d, want %d\n%s%s", strings.Join(args, " "), got, code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// notAfter is the end of the certificate in the PEM file path.
func notAfter(t *testing.T, path string) time.Time {
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
	return c.NotAfter
}

// bootstrapKubelet makes n's kubelet.conf name its client certificate and
// key in one file, as the kubelet's TLS bootstrap leaves it
// (/var/lib/kubelet/pki/kubelet-client-current.pem), in a folder beside
// n's.
func bootstrapKubelet(t *testing.T, n node) {
	t.Helper()
	conf := filepath.Join(n.dir, "kubelet.conf")
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	pemFile := filepath.Join(filepath.Dir(n.dir), "var-lib-kubelet", "pki", "kubelet-client-current.pem")
	var pemData []byte
	text := string(data)
	for _, field := range []string{"client-certificate", "client-key"} {
		m := regexp.MustCompile(`(?m)^(\s*)` + field + `-data: (\S+)$`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("%s has no %s-data:\n%s", conf, field, text)
		}
		b, err := base64.StdEncoding.DecodeString(m[2])
		if err != nil {
			t.Fatalf("%s: %s-data: %v", conf, field, err)
		}
		pemData = append(pemData, b...)
		text = strings.Replace(text, m[0], m[1]+field+": "+pemFile, 1)
	}
	if err := os.MkdirAll(filepath.Dir(pemFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pemFile, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
