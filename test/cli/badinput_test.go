package cli

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestBadInputs runs `certctl renew all` and `certctl check-expiration` on
// a node with one bad input each. Each must exit non-zero (check-expiration:
// where the input is bad for it) with a one-line error that names the file
// and says what to do, and leave every file byte-identical.
func TestBadInputs(t *testing.T) {
	bin := certctlBin(t)
	other := makeNode(t, bin, "ECDSA-P256")
	cp := func(t *testing.T, from, to string) {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		// spoil breaks the node; it may return a user to run certctl as.
		spoil func(t *testing.T, n node) *syscall.Credential
		// file is named in both errors; hint is a word of what to do.
		file, hint string
		// checkExit is check-expiration's exit status.
		checkExit int
		// renew names what to renew; "all" when empty.
		renew string
	}{
		{"corrupt PEM", func(t *testing.T, n node) *syscall.Credential {
			os.WriteFile(filepath.Join(n.certDir, "apiserver.crt"), []byte("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"), 0o644)
			return nil
		}, "pki/apiserver.crt", "restore", 3, ""},
		{"key does not match", func(t *testing.T, n node) *syscall.Credential {
			cp(t, filepath.Join(n.certDir, "front-proxy-client.key"), filepath.Join(n.certDir, "apiserver.key"))
			return nil
		}, "pki/apiserver.key", "restore", 3, ""},
		{"signed by another CA", func(t *testing.T, n node) *syscall.Credential {
			cp(t, filepath.Join(other.certDir, "etcd/peer.crt"), filepath.Join(n.certDir, "etcd/peer.crt"))
			cp(t, filepath.Join(other.certDir, "etcd/peer.key"), filepath.Join(n.certDir, "etcd/peer.key"))
			return nil
		}, "pki/etcd/peer.crt", "restore", 3, ""},
		{"missing CA key", func(t *testing.T, n node) *syscall.Credential {
			os.Remove(filepath.Join(n.certDir, "ca.key"))
			return nil
		}, "pki/ca.key", "--use-csr", 0, // an external CA is no problem for check-expiration
			// renew all renews what the other CAs sign and exits 5 (an external
			// CA: TestRenewAllWithOfflineEtcdCA); a certificate of that CA named
			// on the command line is the error.
			"apiserver"},
		{"kubeconfig without embedded certificate", func(t *testing.T, n node) *syscall.Credential {
			p := filepath.Join(n.dir, "controller-manager.conf")
			data, _ := os.ReadFile(p)
			var out []string
			for _, l := range strings.Split(string(data), "\n") {
				if !strings.Contains(l, "client-certificate-data") {
					out = append(out, l)
				}
			}
			os.WriteFile(p, []byte(strings.Join(out, "\n")), 0o600)
			return nil
		}, "controller-manager.conf", "init-phase kubeconfig controller-manager", 3, ""},
		{"malformed kubeconfig", func(t *testing.T, n node) *syscall.Credential {
			os.WriteFile(filepath.Join(n.dir, "admin.conf"), []byte("apiVersion: v1\nclusters: {{\n"), 0o600)
			return nil
		}, "admin.conf", "restore", 3, ""},
		{"certificate path is a folder", func(t *testing.T, n node) *syscall.Credential {
			p := filepath.Join(n.certDir, "apiserver.crt")
			os.Remove(p)
			os.Mkdir(p, 0o755)
			return nil
		}, "pki/apiserver.crt", "a folder", 3, ""},
		{"encrypted key", func(t *testing.T, n node) *syscall.Credential {
			// PKCS#8 with a passphrase, as `openssl pkcs8 -topk8 -v2 aes256` writes it.
			os.WriteFile(filepath.Join(n.certDir, "apiserver.key"), pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x00}}), 0o600)
			return nil
		}, "pki/apiserver.key", "decrypt it", 3, ""},
		{"CA re-issued with the same key", func(t *testing.T, n node) *syscall.Credential {
			// A new CA certificate, same key and subject, written as
			// `openssl req -x509 -key ca.key -subj /CN=kubernetes` writes
			// it (a UTF8String) with another key identifier: every
			// certificate it signed still verifies by signature, but no
			// client builds the chain.
			st := pki.Store{Dir: n.certDir}
			old, _, err := st.ReadCert("ca")
			if err != nil {
				t.Fatal(err)
			}
			key, err := st.ReadKey("ca")
			if err != nil {
				t.Fatal(err)
			}
			tmpl := *old
			tmpl.SubjectKeyId, tmpl.SerialNumber = []byte{1, 2, 3, 4}, big.NewInt(2)
			type atv struct {
				Type  asn1.ObjectIdentifier
				Value string `asn1:"utf8"`
			}
			type atvSET []atv // encoding/asn1: a SET OF, by the type's name
			if tmpl.RawSubject, err = asn1.Marshal([]atvSET{{{asn1.ObjectIdentifier{2, 5, 4, 3}, old.Subject.CommonName}}}); err != nil {
				t.Fatal(err)
			}
			tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour)
			der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, key.Public(), key)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(st.CertPath("ca"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
			return nil
		}, "pki/ca.crt", "openssl x509 -in PREVIOUS-ca.crt", 3, ""},
		{"unreadable folder", func(t *testing.T, n node) *syscall.Credential {
			if err := os.Chmod(n.certDir, 0); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(n.certDir, 0o755) })
			if os.Geteuid() != 0 {
				return nil
			}
			// root reads anything: run certctl as nobody, on a tree nobody
			// can reach, and lock, but not read.
			for d := filepath.Dir(n.dir); d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
				os.Chmod(d, 0o755)
			}
			os.Chmod(filepath.Join(n.dir, lock.FileName), 0o666)
			return &syscall.Credential{Uid: 65534, Gid: 65534}
		}, "pki", "permissions", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := makeNode(t, bin, "ECDSA-P256")
			as := tt.spoil(t, n)
			before := snapshot(t, n)
			file := filepath.Join(n.dir, tt.file)

			what := tt.renew
			if what == "" {
				what = "all"
			}
			code, errLine := runAs(t, as, bin, append([]string{"renew", what}, n.flags()...)...)
			if code != 1 {
				t.Errorf("renew %s: exit %d, want 1", what, code)
			}
			assertErrLine(t, "renew "+what, errLine, file, tt.hint)

			code, errLine = runAs(t, as, bin, append([]string{"check-expiration"}, n.flags()...)...)
			if code != tt.checkExit {
				t.Errorf("check-expiration: exit %d, want %d (%s)", code, tt.checkExit, errLine)
			}
			if tt.checkExit != 0 {
				assertErrLine(t, "check-expiration", errLine, file, "")
			}
			if as != nil {
				os.Chmod(n.certDir, 0o755) // to snapshot it
				before[n.certDir] = "dir " + (os.ModeDir | 0o755).String()
			}
			treetest.AssertSame(t, before, snapshot(t, n))
		})
	}
}

// TestExpiredCA: a node whose CA has expired cannot renew, and
// check-expiration says so with exit status 2.
func TestExpiredCA(t *testing.T) {
	bin := certctlBin(t)
	dir := filepath.Join(t.TempDir(), "etc-kubernetes")
	n := node{dir: dir, certDir: filepath.Join(dir, "pki")}
	id := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256"}
	// The CAs are init-phase certs': kubeconfig makes none (93f11c8).
	run(t, bin, append([]string{"init-phase", "certs", "all", "--cert-dir", n.certDir, "--ca-certificate-validity", "3s"}, id...)...)
	run(t, bin, append(append([]string{"init-phase", "kubeconfig", "all"}, n.flags()...), id...)...)
	time.Sleep(time.Until(notAfter(t, filepath.Join(n.certDir, "ca.crt"))) + 1500*time.Millisecond)
	before := snapshot(t, n)

	code, errLine := runAs(t, nil, bin, append([]string{"renew", "apiserver"}, n.flags()...)...)
	if code != 1 {
		t.Errorf("renew: exit %d, want 1", code)
	}
	assertErrLine(t, "renew", errLine, filepath.Join(n.certDir, "ca.crt"), "expired")
	code, errLine = runAs(t, nil, bin, append([]string{"check-expiration"}, n.flags()...)...)
	if code != 2 {
		t.Errorf("check-expiration: exit %d, want 2", code)
	}
	assertErrLine(t, "check-expiration", errLine, filepath.Join(n.certDir, "ca.crt"), "renew")
	treetest.AssertSame(t, before, snapshot(t, n))
}

// snapshot hashes the node's files but certctl's lock file, which each
// command that takes the lock rewrites with its PID: it is not part of the
// PKI.
func snapshot(t *testing.T, n node) map[string]string {
	t.Helper()
	m := treetest.Snapshot(t, n.dir)
	delete(m, filepath.Join(n.dir, lock.FileName))
	return m
}

// runAs runs certctl, as the user cred when not nil, and returns its exit
// status and the last line it wrote to stderr.
func runAs(t *testing.T, cred *syscall.Credential, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run certctl: %v", err)
	}
	lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
	return cmd.ProcessState.ExitCode(), lines[len(lines)-1]
}

func assertErrLine(t *testing.T, what, line, file, hint string) {
	t.Helper()
	if !strings.HasPrefix(line, "error: ") || !strings.Contains(line, file) || !strings.Contains(line, hint) {
		t.Errorf("%s: last line of stderr %q, want \"error: ...\" naming %s and saying %q", what, line, file, hint)
	}
}

// TestMisleadingMessages: each input of issue 14, item 9, whose message
// sent the user the wrong way, now says what is wrong and what to do,
// changes nothing, and warnings go to stderr.
func TestMisleadingMessages(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	file := filepath.Join(t.TempDir(), "pki")
	os.WriteFile(file, nil, 0o600)
	for _, args := range [][]string{
		{"check-expiration", "--cert-dir", file, "--kubeconfig-dir", n.dir},
		{"renew", "all", "--cert-dir", file, "--kubeconfig-dir", n.dir},
		{"restore", "--cert-dir", file, "--kubeconfig-dir", n.dir},
		{"renew", "all", "--cert-dir", n.certDir, "--kubeconfig-dir", file},
	} {
		code, line := runAs(t, nil, bin, args...)
		if code != 1 || !strings.Contains(line, file+" is a file, not a folder") || strings.Contains(line, "not a directory") {
			t.Errorf("%v: exit %d, %q", args, code, line)
		}
	}

	// restore latest with a damaged backup.json: not "no backup".
	run(t, bin, append([]string{"renew", "apiserver"}, n.flags()...)...)
	backups, _ := filepath.Glob(filepath.Join(n.dir, "certctl-backups", "*", "backup.json"))
	if len(backups) != 1 {
		t.Fatalf("backups %v", backups)
	}
	os.WriteFile(backups[0], []byte("{broken"), 0o600)
	before := snapshot(t, n)
	code, line := runAs(t, nil, bin, append([]string{"restore", "latest"}, n.flags()...)...)
	if code != 1 || !strings.Contains(line, "no complete backup") || !strings.Contains(line, filepath.Dir(backups[0])) || !strings.Contains(line, "backup.json") {
		t.Errorf("restore latest with a damaged backup.json: exit %d, %q", code, line)
	}
	treetest.AssertSame(t, before, snapshot(t, n))

	// A key file readable by others: renew's warning on stderr, not stdout.
	os.Chmod(filepath.Join(n.certDir, "front-proxy-client.key"), 0o644)
	r := runCode(t, bin, append([]string{"renew", "front-proxy-client"}, n.flags()...)...)
	if r.code != 0 || strings.Contains(r.out, "[warning]") || !strings.Contains(r.errOut, "[warning] "+filepath.Join(n.certDir, "front-proxy-client.key")+" holds a private key but is mode 0644") {
		t.Errorf("renew: exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.out, r.errOut)
	}
}
