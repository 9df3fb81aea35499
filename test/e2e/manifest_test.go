package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/freeport"
	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/pki"
)

// kubeadmManifestConfig makes kubeadm write kube-controller-manager's manifest as on a real node:
// kubeadmConfig's /etc/kubernetes paths, and a pod network (so that the node-CIDR flags are there
// too).
const kubeadmManifestConfig = kubeadmConfig + "  podSubnet: 10.244.0.0/16\n"

// kubeadmControllerManagerManifest returns the kube-controller-manager manifest kubeadm v1.37
// writes, from `kubeadm init phase control-plane controller-manager --dry-run`.
func kubeadmControllerManagerManifest(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	bin, err := testcluster.BinDir("", "kubeadm")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kubeadm.yaml")
	if err := os.WriteFile(cfg, []byte(kubeadmManifestConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "dry-run")
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "kubeadm"), "init", "phase", "control-plane", "controller-manager", "--config", cfg, "--dry-run")
	cmd.Env = append(os.Environ(), "KUBEADM_INIT_DRYRUN_DIR="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubeadm init phase control-plane controller-manager --dry-run: %v\n%s", err, b)
	}
	data, err := os.ReadFile(filepath.Join(out, "kube-controller-manager.yaml"))
	if err != nil {
		t.Fatalf("kubeadm wrote no manifest: %v", err)
	}
	return data
}

// TestKubeadmManifestRoundTrip: on the manifest kubeadm v1.37 itself writes, `signer disable`
// gives kubeadm's external-CA shape (empty signing flags) and `signer enable` gives kubeadm's
// manifest back byte for byte; each a second time changes nothing.
func TestKubeadmManifestRoundTrip(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	orig := kubeadmControllerManagerManifest(t, ctx)
	flags, err := manifests.SignerFlags(orig)
	if err != nil {
		t.Fatal(err)
	}
	if flags["cluster-signing-cert-file"] != "/etc/kubernetes/pki/ca.crt" {
		t.Fatalf("kubeadm's manifest has --cluster-signing-cert-file=%q, want /etc/kubernetes/pki/ca.crt (is /etc/kubernetes/pki an external-CA folder on this machine?)", flags["cluster-signing-cert-file"])
	}
	off, changes, err := manifests.DisableSigner(orig)
	if err != nil || len(changes) != 2 {
		t.Fatalf("disable: %v, changes %q", err, changes)
	}
	if d, _ := manifests.UnifiedDiff("kubeadm", "disabled", orig, off); strings.Count(d, "\n-    - --cluster-signing") != 2 || strings.Count(d, "\n+    - --cluster-signing") != 2 {
		t.Errorf("disable changed more than the two signing flags:\n%s", d)
	}
	on, _, err := manifests.EnableSigner(off, manifests.SignerOptions{CertFile: "/etc/kubernetes/pki/ca.crt", KeyFile: "/etc/kubernetes/pki/ca.key"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(on, orig) {
		d, _ := manifests.UnifiedDiff("kubeadm", "enable(disable(kubeadm))", orig, on)
		t.Errorf("enable(disable(kubeadm's manifest)) is not kubeadm's manifest:\n%s", d)
	}
	for name, b := range map[string][]byte{"on": on, "off": off} {
		f := manifests.DisableSigner
		if name == "on" {
			f = func(b []byte) ([]byte, []string, error) {
				return manifests.EnableSigner(b, manifests.SignerOptions{CertFile: "/etc/kubernetes/pki/ca.crt", KeyFile: "/etc/kubernetes/pki/ca.key"})
			}
		}
		again, changes, err := f(b)
		if err != nil || !bytes.Equal(again, b) || len(changes) != 0 {
			t.Errorf("%s: a second run changed the manifest (%v, %q)", name, err, changes)
		}
	}
}

// TestControllerManagerFromPatchedManifest proves the patch by running it: kubeadm's
// kube-controller-manager manifest in external-CA mode (no signer) is patched, its container's
// command line is taken as is, the /etc/kubernetes paths in it are mapped to the test cluster's
// folder (which mirrors /etc/kubernetes), and the real kube-controller-manager binary runs with
// exactly those flags, plus --secure-port (a free port) and --cert-dir (a temporary folder for its
// self-signed serving certificate) so that the test owns what it binds and writes. A
// kubernetes.io/kube-apiserver-client CSR is then issued by it, signed by the cluster CA.
//
// Two patches are run: manifests.EnableSigner with kubeadm's /etc/kubernetes/pki paths, and the
// `certctl signer enable --per-signer --cert-dir` command with the cluster's real folder (the CLI
// checks the CA files first), which also adds a hostPath volume for that folder.
func TestControllerManagerFromPatchedManifest(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 6*time.Minute)
	kcm, err := testcluster.BinDir("", testcluster.ControllerManager)
	if err != nil {
		t.Fatal(err)
	}
	external, _, err := manifests.DisableSigner(kubeadmControllerManagerManifest(t, ctx))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("general pair, kubeadm paths", func(t *testing.T) {
		patched, changes, err := manifests.EnableSigner(external, manifests.SignerOptions{CertFile: "/etc/kubernetes/pki/ca.crt", KeyFile: "/etc/kubernetes/pki/ca.key"})
		if err != nil || len(changes) != 2 {
			t.Fatalf("patch: %v %q", err, changes)
		}
		runControllerManagerAndSign(t, ctx, c, filepath.Join(kcm, testcluster.ControllerManager), patched, "e2e-kcm-general")
	})

	t.Run("per-signer, certctl signer enable", func(t *testing.T) {
		dir := t.TempDir()
		manifest := filepath.Join(dir, "manifests", "kube-controller-manager.yaml")
		if err := os.MkdirAll(filepath.Dir(manifest), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(manifest, external, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := runCertctl(t, ctx, "signer", "enable", "--per-signer", "--manifest", manifest, "--cert-dir", c.PKIDir()); err != nil {
			t.Fatalf("certctl signer enable: %v", err)
		}
		patched, err := os.ReadFile(manifest)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(patched, []byte("path: "+c.PKIDir())) {
			t.Errorf("the patched manifest mounts no hostPath volume for %s:\n%s", c.PKIDir(), patched)
		}
		// The first run's kube-controller-manager held the leader Lease; it is gone, free the Lease.
		super, err := c.SuperAdminClient()
		if err != nil {
			t.Fatal(err)
		}
		err = super.CoordinationV1().Leases("kube-system").Delete(ctx, "kube-controller-manager", metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		runControllerManagerAndSign(t, ctx, c, filepath.Join(kcm, testcluster.ControllerManager), patched, "e2e-kcm-per-signer")
	})
}

// runControllerManagerAndSign starts kube-controller-manager with the manifest's command line
// (paths mapped into the cluster's folder), and waits for it to issue a client certificate.
func runControllerManagerAndSign(t *testing.T, ctx context.Context, c *testcluster.Cluster, bin string, manifest []byte, user string) {
	t.Helper()
	pod, err := manifests.Parse(manifest)
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := manifests.FindComponent(pod, pki.KubeControllerManager)
	if err != nil {
		t.Fatal(err)
	}
	command := append(append([]string{}, ctr.Command...), ctr.Args...)
	if command[0] != "kube-controller-manager" {
		t.Fatalf("command %q does not run kube-controller-manager", command)
	}
	var args []string
	for _, a := range command[1:] {
		if name, value, ok := strings.Cut(a, "="); ok && strings.HasPrefix(value, "/etc/kubernetes/") {
			a = name + "=" + filepath.Join(c.KubeconfigDir(), strings.TrimPrefix(value, "/etc/kubernetes/"))
		}
		args = append(args, a)
	}
	port := freeport.Port(t) // below the ephemeral range, as the harness's ports
	args = append(args, fmt.Sprintf("--secure-port=%d", port), "--cert-dir="+t.TempDir())
	signing := slices.IndexFunc(args, func(a string) bool {
		return strings.HasPrefix(a, "--cluster-signing-cert-file="+c.PKIDir()) || strings.HasPrefix(a, "--cluster-signing-kube-apiserver-client-cert-file="+c.PKIDir())
	})
	if signing < 0 {
		t.Fatalf("the patched command names no signing file in %s: %q", c.PKIDir(), args)
	}
	p := startProc(t, t.TempDir(), "kube-controller-manager", bin, args...)
	waitHealthz(t, ctx, p, fmt.Sprintf("127.0.0.1:%d", port))

	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	csr := createCSR(t, ctx, cs, user, certv1.KubeAPIServerClientSignerName, pki.Profile{CommonName: user}, newKey(t),
		[]certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth})
	approve(t, ctx, cs, csr)
	done := waitCSR(t, ctx, cs, csr.Name, issued)
	t.Logf("kube-controller-manager (pid %d) from the patched manifest issued CSR %s %v after approval", p.cmd.Process.Pid, csr.Name, time.Since(start).Round(time.Millisecond))
	cert := verifyChain(t, done.Status.Certificate, filepath.Join(c.PKIDir(), "ca.crt"), x509.ExtKeyUsageClientAuth)
	if cert.Subject.CommonName != user {
		t.Errorf("issued subject %q, want CN=%s", cert.Subject, user)
	}
	p.stop(t)
}
