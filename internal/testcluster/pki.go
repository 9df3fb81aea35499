package testcluster

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// PKISpec describes the PKI step: where the files go and the values the cluster needs in them.
// Options.WritePKI receives it; the default step is WriteDefault.
type PKISpec struct {
	CertDir       string // DIR/etc/kubernetes/pki
	KubeconfigDir string // DIR/etc/kubernetes

	NodeName             string // NodeName
	AdvertiseAddress     string // Host
	BindPort             int    // kube-apiserver's secure port
	ControlPlaneEndpoint string // Host:BindPort, the server of every kubeconfig
	ServiceCIDR          string // ServiceCIDR
	DNSDomain            string // DNSDomain

	// ExtraArgs (Options.CertctlArgs) are appended to both default commands.
	ExtraArgs []string

	// Log receives certctl's output (DIR/logs/certctl.log).
	Log io.Writer

	certctl func() (string, error)
}

// Flags returns the flags that tie certctl's certificates to this cluster,
// as `init-phase certs all` (and signer run, approve) take them.
func (s *PKISpec) Flags() []string {
	return append(s.kubeconfigFlags(),
		"--service-cidr", s.ServiceCIDR,
		"--service-dns-domain", s.DNSDomain,
	)
}

// kubeconfigFlags are the flags of Flags that `init-phase kubeconfig all`
// takes: its files carry no SAN, and it refuses the flags that set them.
func (s *PKISpec) kubeconfigFlags() []string {
	return []string{
		"--node-name", s.NodeName,
		"--apiserver-advertise-address", s.AdvertiseAddress,
		"--apiserver-bind-port", strconv.Itoa(s.BindPort),
		"--control-plane-endpoint", s.ControlPlaneEndpoint,
	}
}

// WriteDefault writes the PKI and the kubeconfigs as a kubeadm control-plane node has them:
// InitCerts, then
// `certctl init-phase kubeconfig all --kubeconfig-dir KUBECONFIGDIR --cert-dir CERTDIR FLAGS EXTRA`,
// FLAGS without the two that set SANs (--service-cidr, --service-dns-domain), which it refuses.
func (s *PKISpec) WriteDefault(ctx context.Context) error {
	if err := s.InitCerts(ctx); err != nil {
		return err
	}
	args := append([]string{"init-phase", "kubeconfig", "all", "--kubeconfig-dir", s.KubeconfigDir, "--cert-dir", s.CertDir}, s.kubeconfigFlags()...)
	return s.Certctl(ctx, append(args, s.ExtraArgs...)...)
}

// InitCerts runs `certctl init-phase certs all --cert-dir CERTDIR FLAGS EXTRA`. Like kubeadm, it
// is expected to keep the files that exist and write the missing ones.
func (s *PKISpec) InitCerts(ctx context.Context) error {
	args := append([]string{"init-phase", "certs", "all", "--cert-dir", s.CertDir}, s.Flags()...)
	return s.Certctl(ctx, append(args, s.ExtraArgs...)...)
}

// Certctl runs the certctl binary with args. Its output goes to s.Log; on failure the error
// holds the command line and the output's last lines.
func (s *PKISpec) Certctl(ctx context.Context, args ...string) error {
	bin, err := s.certctl()
	if err != nil {
		return err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout = io.MultiWriter(&out, s.Log)
	cmd.Stderr = cmd.Stdout
	fmt.Fprintf(s.Log, "$ certctl %s\n", strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("run certctl %s: %w\n%s", strings.Join(args, " "), err, lastLines(out.Bytes(), 20))
	}
	return nil
}

// CertctlBinary returns the certctl binary tests run: $CERTCTL_BIN (the Makefile exports it; a
// relative path is taken from the repository root), else one built from the repository once per
// test process. Every test package resolves certctl through here.
func CertctlBinary() (string, error) { return certctlBinary("") }

// certctlBinary returns the certctl to run: explicit, else as CertctlBinary.
func certctlBinary(explicit string) (string, error) {
	explicit = cmp.Or(explicit, os.Getenv("CERTCTL_BIN"))
	if explicit == "" {
		return buildCertctl()
	}
	explicit, err := fromRoot(explicit)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(explicit); err != nil {
		return "", fmt.Errorf("find certctl binary: %w (build it with `make build`, or unset CERTCTL_BIN to build it on the fly)", err)
	}
	return filepath.Abs(explicit)
}

// buildCertctl builds REPO/cmd/certctl once per process. It builds into a temporary file in
// REPO/_output/testbin and renames it, so concurrent test processes never run a half-written binary.
var buildCertctl = sync.OnceValues(func() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "_output", "testbin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build certctl: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return "", fmt.Errorf("build certctl: %w", err)
	}
	defer os.RemoveAll(tmp)
	// Stamped as `make build` stamps it, so that the version tests hold for this binary too.
	version, err := exec.Command(filepath.Join(root, "hack", "version.sh")).Output()
	if err != nil {
		return "", fmt.Errorf("build certctl: hack/version.sh: %w", err)
	}
	ldflags := "-X github.com/certctl/certctl/cmd.version=" + strings.TrimSpace(string(version))
	cmd := exec.Command("go", "build", "-ldflags", ldflags, "-o", filepath.Join(tmp, "certctl"), "./cmd/certctl")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build certctl (go build ./cmd/certctl in %s): %w\n%s", root, err, out)
	}
	bin := filepath.Join(dir, "certctl")
	if err := os.Rename(filepath.Join(tmp, "certctl"), bin); err != nil {
		return "", fmt.Errorf("build certctl: %w", err)
	}
	return bin, nil
})

// RepoRoot returns the folder of certctl's main go.mod, found with `go env GOMOD` from the
// working directory (a test's working directory is its package folder).
func RepoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find repository root (go env GOMOD): %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("find repository root: not inside a Go module; run from the certctl repository")
	}
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	if !bytes.HasPrefix(data, []byte("module github.com/certctl/certctl\n")) && !bytes.Contains(data, []byte("\nmodule github.com/certctl/certctl\n")) {
		return "", fmt.Errorf("find repository root: %s is not certctl's main go.mod", gomod)
	}
	return filepath.Dir(gomod), nil
}

// BinDir returns the folder of the kube binaries: explicit, else $KUBE_BIN_DIR, else
// REPO/_output/bin/KubeVersion; a relative path is taken from the repository root. It checks that each named binary is there and executable, and
// says to run `make kube-binaries` when one is not.
func BinDir(explicit string, binaries ...string) (string, error) {
	dir, err := fromRoot(cmp.Or(explicit, os.Getenv("KUBE_BIN_DIR"), filepath.Join("_output", "bin", KubeVersion)))
	if err != nil {
		return "", err
	}
	var missing []string
	for _, b := range binaries {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("find kube binaries: %s missing in %s; run `make kube-binaries` (builds %s, ~8 min once)",
			strings.Join(missing, ", "), dir, KubeVersion)
	}
	return dir, nil
}

// fromRoot makes a relative path relative to the repository root rather than to the working
// directory, which in `go test` is the package's folder: CERTCTL_BIN=_output/certctl means the
// same from the root and from test/e2e.
func fromRoot(path string) (string, error) {
	if filepath.IsAbs(path) {
		return path, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, path), nil
}
