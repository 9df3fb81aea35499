package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

// runBounded runs certctl with a 20 s bound: a command that blocks on a
// FIFO is killed and fails the test rather than hanging it.
func runBounded(t *testing.T, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var r result
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r.out, r.errOut = out.String(), errOut.String()
	if ctx.Err() != nil {
		t.Fatalf("certctl %s still blocked after 20s", strings.Join(args, " "))
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("certctl %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// TestConfigFIFOWithoutWriter: --config naming a FIFO that nothing writes
// to is refused at once, naming the file, with a non-zero exit and every
// file as it was; it blocked every command that reads --config.
func TestConfigFIFOWithoutWriter(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	fifo := filepath.Join(t.TempDir(), "kubeadm.yaml")
	treetest.FIFO(t, fifo)
	before := snapshot(t, n)
	for _, args := range [][]string{
		append([]string{"check-expiration"}, n.flags()...),
		append([]string{"renew", "all"}, n.flags()...),
		{"init-phase", "certs", "all", "--cert-dir", n.certDir},
	} {
		r := runBounded(t, bin, append(args, "--config", fifo)...)
		if r.code == 0 || !strings.Contains(r.errOut, fifo) || !strings.Contains(r.errOut, "no InitConfiguration or ClusterConfiguration") {
			t.Errorf("%s --config FIFO: exit %d, stderr %q; want an error naming %s as empty", strings.Join(args, " "), r.code, r.errOut, fifo)
		}
	}
	treetest.AssertSame(t, before, snapshot(t, n))
}

// TestConfigProcessSubstitution: `--config <(...)`, a pipe with a writer
// that bash names /dev/fd/N, is read as a file is.
func TestConfigProcessSubstitution(t *testing.T) {
	bin := certctlBin(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash for process substitution")
	}
	n := makeNode(t, bin, "ECDSA-P256")
	doc := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: " + n.certDir + "\n"
	script := `exec "$0" check-expiration --config <(printf '%s' "$1") --cert-dir "$2" --kubeconfig-dir "$3"`
	r := runBounded(t, bash, "-c", script, bin, doc, n.certDir, n.dir)
	if r.code != 0 || !strings.Contains(r.errOut, "[config] using the configuration file /dev/fd/") {
		t.Errorf("check-expiration --config <(...): exit %d, stderr %q; want 0 and the file used", r.code, r.errOut)
	}
}

// TestConfigFolder: --config naming a folder says to pass a kubeadm
// configuration file.
func TestConfigFolder(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	dir := t.TempDir()
	before := snapshot(t, n)
	code, errLine := runAs(t, nil, bin, append([]string{"check-expiration", "--config", dir}, n.flags()...)...)
	if code == 0 {
		t.Errorf("check-expiration --config FOLDER: exit 0")
	}
	assertErrLine(t, "check-expiration --config FOLDER", errLine, dir, "pass --config a kubeadm configuration file")
	treetest.AssertSame(t, before, snapshot(t, n))
}

// TestKubeconfigFIFOWithoutConfig: a FIFO in place of the kubeconfig
// folder's admin.conf or super-admin.conf, without --config, is not read
// for the ConfigMap: the run goes on, as for a missing file, with the
// settings derived from the certificates, and the [config] line names the
// file and why it was not read. It blocked every such command.
func TestKubeconfigFIFOWithoutConfig(t *testing.T) {
	bin := certctlBin(t)
	for _, name := range []string{"admin.conf", "super-admin.conf"} {
		t.Run(name, func(t *testing.T) {
			n := makeNode(t, bin, "ECDSA-P256")
			fifo := filepath.Join(n.dir, name)
			treetest.FIFO(t, fifo)
			if name == "super-admin.conf" {
				if err := os.Remove(filepath.Join(n.dir, "admin.conf")); err != nil {
					t.Fatal(err)
				}
			}
			before := snapshot(t, n)
			for _, args := range [][]string{{"check-expiration"}, {"renew", "all", "--dry-run"}} {
				r := runBounded(t, bin, append(args, n.flags()...)...)
				if !strings.Contains(r.errOut, "[config] using the settings derived from the certificates in "+n.certDir) ||
					!strings.Contains(r.errOut, fifo+" is not a regular file but a FIFO") {
					t.Errorf("%s with %s a FIFO: exit %d, stderr %q; want the certificates' settings and %s named", strings.Join(args, " "), name, r.code, r.errOut, fifo)
				}
			}
			treetest.AssertSame(t, before, snapshot(t, n))
		})
	}
}

// TestUseAPIKubeconfigFIFO: renew --use-api with --kubeconfig naming a
// FIFO, or with a FIFO in place of KUBECONFIG-DIR/admin.conf, is refused at
// once naming it, rather than blocking until killed; nothing changes.
func TestUseAPIKubeconfigFIFO(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	fifo := filepath.Join(t.TempDir(), "kubeconfig")
	treetest.FIFO(t, fifo)
	before := snapshot(t, n)
	r := runBounded(t, bin, append([]string{"renew", "apiserver", "--use-api", "--kubeconfig", fifo}, n.flags()...)...)
	if r.code == 0 || !strings.Contains(r.errOut, "kubeconfig "+fifo+" is not a regular file but a FIFO: pass --kubeconfig") {
		t.Errorf("renew --use-api --kubeconfig FIFO: exit %d, stderr %q; want an error naming %s", r.code, r.errOut, fifo)
	}
	treetest.AssertSame(t, before, snapshot(t, n))

	admin := filepath.Join(n.dir, "admin.conf")
	treetest.FIFO(t, admin)
	before = snapshot(t, n)
	r = runBounded(t, bin, append([]string{"renew", "apiserver", "--use-api"}, n.flags()...)...)
	if r.code == 0 || !strings.Contains(r.errOut, "kubeconfig "+admin+" is not a regular file but a FIFO") {
		t.Errorf("renew --use-api with admin.conf a FIFO: exit %d, stderr %q; want an error naming %s", r.code, r.errOut, admin)
	}
	treetest.AssertSame(t, before, snapshot(t, n))
}
