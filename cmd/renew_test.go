package cmd

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/internal/txn"
)

// renewNode makes a node and a kubeadm configuration for it (so that no
// test depends on this machine's name and address), with ECDSA keys.
func renewNode(t *testing.T) (*pkitest.Node, []string) {
	t.Helper()
	n := pkitest.NewNode(t, nil)
	cfg := filepath.Join(t.TempDir(), "kubeadm.yaml")
	err := os.WriteFile(cfg, []byte(`apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration: {name: cp-1}
localAPIEndpoint: {advertiseAddress: 198.51.100.10}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
encryptionAlgorithm: ECDSA-P256
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return n, []string{"--config", cfg, "--cert-dir", n.CertDir(), "--kubeconfig-dir", n.Dir}
}

func execute(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRootCommand(&out, &errOut)
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

func TestRenewCommand(t *testing.T) {
	n, flags := renewNode(t)
	out, _, err := execute(t, append([]string{"renew", "all"}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Restart these components", "kube-apiserver", "etcd ", "kube-controller-manager", "kube-scheduler",
		filepath.Join(n.Dir, "certctl-backups")} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not mention %q:\n%s", want, out)
		}
	}
	out, _, err = execute(t, append([]string{"renew", "admin.conf", "--no-backup"}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Nothing to restart") || strings.Contains(out, "saved in") {
		t.Errorf("renew admin.conf --no-backup:\n%s", out)
	}
}

// TestRenewRefuses: wrong arguments and conflicting flags fail before
// anything is read or written.
func TestRenewRefuses(t *testing.T) {
	n, flags := renewNode(t)
	before := treetest.Snapshot(t, n.Dir)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"renew"}, "name what to renew"},
		{[]string{"renew", "ca"}, "does not renew CAs"},
		{[]string{"renew", "front-proxy-ca"}, "does not renew CAs"},
		{[]string{"renew", "nope"}, `unknown certificate "nope"`},
		{[]string{"renew", "all", "--reuse-key", "--encryption-algorithm", "RSA-2048"}, "drop one of them"},
		{[]string{"renew", "all", "--if-expires-within", "8760h"}, "is not shorter than the certificate validity 8760h0m0s"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := execute(t, append(tt.args, flags...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
}

// TestRenewAllFindsNothing: `renew all` in folders that hold none of the
// files fails in every mode, so that a cron job pointed at the wrong
// folder does not succeed forever while renewing nothing.
func TestRenewAllFindsNothing(t *testing.T) {
	empty := t.TempDir()
	flags := []string{"--cert-dir", filepath.Join(empty, "pki"), "--kubeconfig-dir", empty}
	for _, mode := range [][]string{
		nil,
		{"--if-expires-within", "720h"},
		{"--use-csr", "--csr-dir", filepath.Join(empty, "csr")},
	} {
		t.Run(strings.Join(append([]string{"renew all"}, mode...), " "), func(t *testing.T) {
			before := treetest.Snapshot(t, empty)
			_, _, err := execute(t, append(append([]string{"renew", "all"}, flags...), mode...)...)
			treetest.ErrMentions(t, err, "none of the 11 certificates", filepath.Join(empty, "pki"), "--cert-dir")
			if err != nil && exitcode.Of(err) != 1 {
				t.Errorf("exit status %d, want 1", exitcode.Of(err))
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, empty))
		})
	}
}

// TestRenewAllMissingKubeconfigDir: `renew all` with a mistyped
// --kubeconfig-dir fails in every mode, naming the folder and the flag:
// each kubeconfig would otherwise be a !MISSING! row, skipped, and a cron
// job would succeed every month while they expire.
func TestRenewAllMissingKubeconfigDir(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	typo := filepath.Join(n.Dir, "kubernetes")
	flags := []string{"--cert-dir", n.CertDir(), "--kubeconfig-dir", typo}
	for _, mode := range [][]string{
		nil,
		{"--dry-run"},
		{"--if-expires-within", "720h"},
		{"--use-csr", "--csr-dir", filepath.Join(t.TempDir(), "csr")},
	} {
		t.Run(strings.Join(append([]string{"renew all"}, mode...), " "), func(t *testing.T) {
			before := treetest.Snapshot(t, n.Dir)
			_, _, err := execute(t, append(append([]string{"renew", "all"}, flags...), mode...)...)
			treetest.ErrMentions(t, err, "kubeconfig folder "+typo+" does not exist", "--kubeconfig-dir")
			if err != nil && exitcode.Of(err) != 1 {
				t.Errorf("exit status %d, want 1", exitcode.Of(err))
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}

// TestLockTimeoutNotNegative: every command that takes the lock refuses a
// negative --lock-timeout when it parses its flags, before any work.
func TestLockTimeoutNotNegative(t *testing.T) {
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.LocalFlags().Lookup("lock-timeout") != nil {
			paths = append(paths, path)
		}
		for _, sub := range c.Commands() {
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
	}
	walk(NewRootCommand(io.Discard, io.Discard), nil)
	if len(paths) < 5 {
		t.Fatalf("only %d commands have --lock-timeout: %v", len(paths), paths)
	}
	dir := t.TempDir()
	before := treetest.Snapshot(t, dir)
	for _, p := range paths {
		_, _, err := execute(t, append(p, "--lock-timeout", "-1s", "--cert-dir", filepath.Join(dir, "pki"))...)
		if err == nil || !strings.Contains(err.Error(), "must not be negative (0: do not wait)") {
			t.Errorf("%s --lock-timeout -1s: err = %v", strings.Join(p, " "), err)
		}
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, dir))
}

func TestCheckExpirationExitCodes(t *testing.T) {
	n, flags := renewNode(t)
	tests := []struct {
		name  string
		args  []string
		spoil func()
		code  int // 0: no error
	}{
		{"healthy", nil, nil, 0},
		{"json", []string{"-o", "json"}, nil, 0},
		{"expiring within the window", []string{"--warn-within", "87600h"}, nil, exitcode.ExpiringSoon},
		{"bad format", []string{"-o", "xml"}, nil, 1},
		{"negative window", []string{"--warn-within", "-1h"}, nil, 1},
		{"problem outranks expiry", []string{"--warn-within", "87600h"}, func() {
			os.WriteFile(n.Path("pki/apiserver.key"), []byte("garbage"), 0o600)
		}, exitcode.Problems},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.spoil != nil {
				tt.spoil()
			}
			out, _, err := execute(t, append(append([]string{"check-expiration"}, flags...), tt.args...)...)
			code := 0
			if err != nil {
				code = exitcode.Of(err)
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
			}
			if code != tt.code {
				t.Errorf("exit status %d (%v), want %d\n%s", code, err, tt.code, out)
			}
		})
	}
}

// TestCheckExpirationWrongFolders: folders that hold none of the files
// are an error (exit 1), as for renew all, so that a typo in a monitoring
// job does not read as all well; some missing files are kubeadm's MISSING
// rows, exit 0.
func TestCheckExpirationWrongFolders(t *testing.T) {
	empty := t.TempDir()
	for _, output := range []string{"text", "json"} {
		out, _, err := execute(t, "check-expiration", "--cert-dir", filepath.Join(empty, "pki"), "--kubeconfig-dir", empty, "-o", output)
		treetest.ErrMentions(t, err, "none of the 15 certificates, kubeconfig files and CAs to check exists in "+filepath.Join(empty, "pki")+" or "+empty, "--cert-dir", "--kubeconfig-dir")
		if exitcode.Of(err) != 1 || out != "" {
			t.Errorf("-o %s: exit %d, stdout %q", output, exitcode.Of(err), out)
		}
	}
	n, flags := renewNode(t)
	os.Remove(n.Path("super-admin.conf"))
	os.Remove(n.Path("pki/front-proxy-client.crt"))
	os.Remove(n.Path("pki/front-proxy-client.key"))
	out, _, err := execute(t, append([]string{"check-expiration"}, flags...)...)
	if err != nil || strings.Count(out, "!MISSING!") != 2 {
		t.Errorf("two missing: %v\n%s", err, out)
	}
}

// TestCommandsRecoverFirst: an interrupted, uncommitted renewal is
// discarded by the next command, whichever it is.
func TestCommandsRecoverFirst(t *testing.T) {
	for _, cmd := range [][]string{{"check-expiration"}, {"renew", "apiserver"}, {"init-phase", "certs", "all"}, {"init-phase", "kubeconfig", "all"}} {
		t.Run(strings.Join(cmd, " "), func(t *testing.T) {
			n, flags := renewNode(t)
			if cmd[0] == "init-phase" && cmd[1] == "certs" {
				flags = flags[:4] // no --kubeconfig-dir
			}
			staged := filepath.Join(n.Dir, txn.DirName, "20260301T100000Z-0badf00d")
			if err := os.MkdirAll(staged, 0o700); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(staged, "0"), []byte("half a key"), 0o600)
			leftover := n.Path("pki/.apiserver.key.tmp-123")
			os.WriteFile(leftover, []byte("half"), 0o600)
			_, errOut, err := execute(t, append(cmd, flags...)...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(errOut, "[recover] discarded renewal 20260301T100000Z-0badf00d") || !strings.Contains(errOut, leftover) {
				t.Errorf("stderr does not report the recovery:\n%s", errOut)
			}
			for _, p := range []string{filepath.Join(n.Dir, txn.DirName), leftover} {
				if _, err := os.Stat(p); !os.IsNotExist(err) {
					t.Errorf("%s left behind", p)
				}
			}
		})
	}
}

// TestLockWaits: while another certctl holds the lock, renew waits
// --lock-timeout and fails naming it, and check-expiration does not wait
// and leaves the (in progress) transaction alone.
func TestLockWaits(t *testing.T) {
	n, flags := renewNode(t)
	path, err := lock.Beside(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := lock.AcquireWait(context.Background(), path, lock.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	staged := filepath.Join(n.Dir, txn.DirName, "20260301T100000Z-0badf00d")
	os.MkdirAll(staged, 0o700)

	start := time.Now()
	_, _, err = execute(t, append([]string{"renew", "all", "--lock-timeout", "300ms"}, flags...)...)
	if err == nil || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) || time.Since(start) < 300*time.Millisecond {
		t.Errorf("renew while locked: %v after %v; want a wait of 300ms and an error naming this process", err, time.Since(start))
	}
	start = time.Now()
	_, errOut, err := execute(t, append([]string{"check-expiration"}, flags...)...)
	if err != nil || time.Since(start) > 5*time.Second || !strings.Contains(errOut, "[recover] skipped") {
		t.Errorf("check-expiration while locked: %v after %v\n%s", err, time.Since(start), errOut)
	}
	if _, err := os.Stat(staged); err != nil {
		t.Errorf("check-expiration touched a transaction in progress: %v", err)
	}
}

// TestCheckExpirationKubeletHint: kubelet.conf expiring is not something
// `certctl renew` fixes, and the error says whose it is to rotate.
func TestCheckExpirationKubeletHint(t *testing.T) {
	_, flags := renewNode(t)
	if _, _, err := execute(t, append([]string{"init-phase", "kubeconfig", "kubelet"}, flags...)...); err != nil {
		t.Fatal(err)
	}
	_, _, err := execute(t, append([]string{"check-expiration", "--warn-within", "87600h"}, flags...)...)
	treetest.ErrMentions(t, err, "kubelet.conf (", "renew them with `certctl renew`", "kubelet.conf's is the kubelet's to rotate")
}
