package cmd

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
)

func TestRenewUseCSRFlags(t *testing.T) {
	n, flags := renewNode(t)
	csrDir := filepath.Join(t.TempDir(), "csr")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no folder", []string{"--use-csr"}, "--use-csr needs --csr-dir"},
		{"folder alone", []string{"--csr-dir", csrDir}, "--csr-dir is only used with --use-csr"},
		{"reuse key", []string{"--use-csr", "--csr-dir", csrDir, "--reuse-key"}, "--reuse-key cannot apply with --use-csr"},
		{"use api", []string{"--use-csr", "--csr-dir", csrDir, "--use-api"}, "--use-api cannot apply with --use-csr"},
		{"no backup", []string{"--use-csr", "--csr-dir", csrDir, "--no-backup"}, "--no-backup cannot apply with --use-csr"},
		{"a CA", []string{"--use-csr", "--csr-dir", csrDir}, "ca is a CA"},
	}
	before := treetest.Snapshot(t, n.Dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "all"
			if tt.name == "a CA" {
				name = "ca"
			}
			_, _, err := execute(t, append(append([]string{"renew", name}, tt.args...), flags...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	if _, err := os.Stat(csrDir); !os.IsNotExist(err) {
		t.Errorf("the CSR folder was created: %v", err)
	}
}

// TestRenewUseCSRThenImport: the commands end to end on a node whose CA
// keys are gone: renew --use-csr, two certificates signed (one wrongly),
// import exits 2 naming the refused one and installs the other.
func TestRenewUseCSRThenImport(t *testing.T) {
	n, flags := renewNode(t)
	s := pki.Store{Dir: n.CertDir()}
	caCert, caKey := n.CA(t, "ca")
	for _, base := range []string{"ca", "front-proxy-ca", "etcd/ca"} {
		os.Remove(s.KeyPath(base))
	}
	csrDir := filepath.Join(t.TempDir(), "csr")
	out, _, err := execute(t, append([]string{"renew", "apiserver", "admin.conf", "--use-csr", "--csr-dir", csrDir}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "certctl certs import --csr-dir "+csrDir) {
		t.Errorf("renew --use-csr does not say how to import:\n%s", out)
	}
	sign := func(name string, v pki.Validity) {
		r, err := reqfile.Read(reqfile.Path(csrDir, name))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := r.Profile()
		csr, err := os.ReadFile(filepath.Join(csrDir, r.CSR))
		if err != nil {
			t.Fatal(err)
		}
		req, err := pki.ParseCSR(csr)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := pki.Sign(rand.Reader, p, req.PublicKey, caCert, caKey, v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(csrDir, r.Certificate), pki.EncodeCert(cert), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	sign("admin.conf", pki.NewValidity(now, time.Hour, 24*time.Hour))
	sign("apiserver", pki.Validity{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}) // expired
	folders := []string{"--cert-dir", n.CertDir(), "--kubeconfig-dir", n.Dir}

	before := treetest.Snapshot(t, n.Dir)
	out, _, err = execute(t, append([]string{"certs", "import", "--csr-dir", csrDir, "--dry-run"}, folders...)...)
	var exit *exitcode.Error
	if !errors.As(err, &exit) || exit.Code != exitcode.ImportRefused || !strings.Contains(out, "[dry-run] admin.conf would be installed") {
		t.Errorf("dry run: %v\n%s", err, out)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))

	out, _, err = execute(t, append([]string{"certs", "import", "--csr-dir", csrDir}, folders...)...)
	if !errors.As(err, &exit) || exit.Code != exitcode.ImportRefused || !strings.Contains(err.Error(), "1 certificate(s) refused") {
		t.Fatalf("import: %v, want exit status %d", err, exitcode.ImportRefused)
	}
	for _, want := range []string{"REFUSED apiserver", "expired on", "admin.conf installed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not mention %q:\n%s", want, out)
		}
	}
	if _, _, err := execute(t, "certs", "import"); err == nil || !strings.Contains(err.Error(), "--csr-dir is required") {
		t.Errorf("without --csr-dir: %v", err)
	}
}

// TestInitUseCSRSaysNextStep: init-phase certs --use-csr ends, as renew
// --use-csr does, with the exact import command for what the CA signs.
func TestInitUseCSRSaysNextStep(t *testing.T) {
	dir := t.TempDir()
	certDir, csrDir := filepath.Join(dir, "pki"), filepath.Join(dir, "csr")
	out, errOut, err := execute(t, "init-phase", "certs", "all", "--use-csr", "--csr-dir", csrDir, "--cert-dir", certDir,
		"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if want := "certctl certs import --csr-dir " + csrDir + " --cert-dir " + certDir + "\n"; !strings.HasSuffix(out, want) {
		t.Errorf("output does not end with %q:\n%s", want, out)
	}
	if out, _, err := execute(t, "init-phase", "certs", "all", "--use-csr", "--csr-dir", filepath.Join(dir, "csr2"), "--cert-dir", certDir, "--dry-run",
		"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10"); err != nil || strings.Contains(out, "certs import") {
		t.Errorf("--dry-run: %v, and it names the import command, which it has nothing for:\n%s", err, out)
	}
}
