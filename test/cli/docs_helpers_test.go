package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/doctest"
)

// configNode is a node set up from a kubeadm.yaml at DIR/kubeadm.yaml,
// where a document has /etc/kubernetes/kubeadm.yaml (makeConfigNode).
type configNode struct {
	node
	config string
}

// flags are the folder flags a document's command needs besides what it
// says: the configuration file names the certificate folder, not the
// kubeconfig folder.
func (n configNode) flags() []string {
	return []string{"--config", n.config, "--kubeconfig-dir", n.dir}
}

// makeConfigNode writes a kubeadm.yaml (newConfigNode) and runs
// docs/init.md's "Make everything" block with it, in the folder that
// holds it.
func makeConfigNode(t *testing.T, bin string) configNode {
	t.Helper()
	n := newConfigNode(t)
	for _, line := range docCommands(t, docBlockIn(t, "init.md", "sh", "init-phase certs all --config kubeadm.yaml")) {
		runDocCommand(t, bin, n.dir, line, kubeconfigDir(line, n.dir)...)
	}
	return n
}

// newConfigNode writes DIR/kubeadm.yaml, node cp-1 with its certificates
// in DIR/pki, in a temporary folder DIR, and nothing else.
func newConfigNode(t *testing.T) configNode {
	t.Helper()
	return newConfigNodeIn(t, filepath.Join(t.TempDir(), "etc-kubernetes"))
}

// newConfigNodeIn is newConfigNode in folder dir, which it makes.
func newConfigNodeIn(t *testing.T, dir string) configNode {
	t.Helper()
	n := configNode{node: node{dir: dir, certDir: filepath.Join(dir, "pki")}, config: filepath.Join(dir, "kubeadm.yaml")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp-1
localAPIEndpoint:
  advertiseAddress: 198.51.100.10
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
certificatesDir: ` + n.certDir + "\nencryptionAlgorithm: ECDSA-P256\n"
	if err := os.WriteFile(n.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return n
}

// docCommands returns the certctl command lines of a sh block, without
// sudo and comments: "certctl init-phase certs all --config kubeadm.yaml".
func docCommands(t *testing.T, block string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(block, "\n") {
		l, _, _ = strings.Cut(l, "#")
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "sudo "))
		if strings.HasPrefix(l, "certctl ") {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no certctl command in block:\n%s", block)
	}
	return out
}

// kubeconfigDir is --kubeconfig-dir DIR for a document's init-phase
// kubeconfig line, which would write in /etc/kubernetes otherwise, and
// nothing for the others.
func kubeconfigDir(line, dir string) []string {
	if strings.Contains(line, "init-phase kubeconfig ") && !strings.Contains(line, "--kubeconfig-dir") {
		return []string{"--kubeconfig-dir", dir}
	}
	return nil
}

// runDocCommand runs a document's "certctl ARGS" line in dir with extra
// flags added at the end (the kubeconfig folder an init-phase kubeconfig
// line writes, say), and fails the test when it fails.
func runDocCommand(t *testing.T, bin, dir, line string, extra ...string) string {
	t.Helper()
	args := append(strings.Fields(strings.TrimPrefix(line, "certctl ")), extra...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docs' %q (run as certctl %s): %v\n%s", line, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// runConsole runs the "$ sudo certctl ..." and "$ certctl ..." lines of a
// console block as doctest.RunConsole does, /etc/kubernetes replaced by dir
// and extra added to each, and returns the lines the document shows and
// the lines certctl printed.
func runConsole(t *testing.T, bin, block, dir string, extra ...string) (want, got []string) {
	t.Helper()
	return doctest.RunConsole(bin, block, dir, extra...)
}

// checkConsole fails the test when what certctl printed is not what the
// console block of docs/DOC shows.
func checkConsole(t *testing.T, doc string, want, got []string) {
	t.Helper()
	if !doctest.LinesMatch(want, got) {
		t.Errorf("docs/%s's example prints\n%s\nwant\n%s", doc, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
