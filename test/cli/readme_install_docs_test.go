package cli

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// readmeBlock returns the first fenced block of README.md whose info
// string is info and whose text contains marker.
func readmeBlock(t *testing.T, info, marker string) string {
	t.Helper()
	for _, m := range regexp.MustCompile("(?s)\n```"+regexp.QuoteMeta(info)+"\n(.*?)```\n").FindAllStringSubmatch(string(mustRead(t, "../../README.md")), -1) {
		if strings.Contains(m[1], marker) {
			return m[1]
		}
	}
	t.Fatalf("README.md has no block ```%s containing %q", info, marker)
	return ""
}

// TestReadmeInstall: README.md's install block installs the file `make
// build` writes (make -n, which runs nothing), and its completion line,
// written to a temporary file in place of /etc/bash_completion.d, is a
// script bash loads that completes certctl.
func TestReadmeInstall(t *testing.T) {
	bin := certctlBin(t)
	block := readmeBlock(t, "sh", "sudo install")
	var built, installed, completion string
	for _, l := range strings.Split(block, "\n") {
		l, _, _ = strings.Cut(l, "#")
		f := strings.Fields(l)
		switch {
		case len(f) == 2 && f[0] == "make" && f[1] == "build":
			make := exec.Command("make", "-n", "build")
			make.Dir = filepath.Join("..", "..")
			out, err := make.Output()
			if err != nil {
				t.Fatalf("make -n build: %v", err)
			}
			m := regexp.MustCompile(` -o (\S+) `).FindStringSubmatch(string(out))
			if m == nil {
				t.Fatalf("make -n build: no -o in\n%s", out)
			}
			abs, _ := filepath.Abs(filepath.Join("..", ".."))
			built = strings.TrimPrefix(m[1], abs+"/")
		case len(f) > 2 && f[0] == "sudo" && f[1] == "install":
			installed = f[len(f)-2]
		case len(f) > 0 && f[0] == "certctl":
			completion = strings.TrimSpace(l)
		}
	}
	if built == "" || installed != built {
		t.Errorf("README.md installs %q; make build writes %q", installed, built)
	}
	m := regexp.MustCompile(`^certctl (completion bash) \| sudo tee (/etc/bash_completion.d/certctl) >/dev/null$`).FindStringSubmatch(completion)
	if m == nil {
		t.Fatalf("README.md's completion line has changed: %q", completion)
	}
	script := filepath.Join(t.TempDir(), "certctl")
	if err := os.WriteFile(script, []byte(run(t, bin, strings.Fields(m[1])...)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", "-c", `source "$1" && complete -p certctl`, "bash", script).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "certctl") {
		t.Errorf("bash does not load the completion README.md installs: %v\n%s", err, out)
	}
}

// TestReadmeDemo runs what README.md's `make demo` runs (hack/demo.sh,
// with examples/kubeadm.yaml) into a temporary folder, twice: the PKI and
// kubeconfigs are made with the example's settings, the openssl check and
// the certctl commands it tells a first-time user to try run, succeed and
// write nothing, and the second run keeps every file.
func TestReadmeDemo(t *testing.T) {
	bin := certctlBin(t)
	if !strings.Contains(readmeBlock(t, "sh", "make demo"), "make demo") {
		t.Fatal("README.md no longer has make demo")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	demo := func() string {
		t.Helper()
		out, err := exec.Command(filepath.Join("..", "..", "hack", "demo.sh"), bin, dir).CombinedOutput()
		if err != nil {
			t.Fatalf("hack/demo.sh: %v\n%s", err, out)
		}
		return string(out)
	}
	out := demo()
	if !strings.Contains(out, "Generating") {
		t.Fatalf("hack/demo.sh made nothing:\n%s", out)
	}
	crt := parseCert(t, filepath.Join(dir, "pki", "apiserver.crt"))
	for _, san := range []string{"demo-cp-1", "api.demo.example", "cp.demo.example"} {
		if !slices.Contains(crt.DNSNames, san) {
			t.Errorf("apiserver.crt's DNS SANs %q lack examples/kubeadm.yaml's %s", crt.DNSNames, san)
		}
	}
	if !slices.ContainsFunc(crt.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.ParseIP("203.0.113.10")) }) {
		t.Errorf("apiserver.crt's IP SANs %v lack examples/kubeadm.yaml's 203.0.113.10", crt.IPAddresses)
	}
	if _, err := os.Stat(filepath.Join(dir, "admin.conf")); err != nil {
		t.Error(err)
	}
	// The commands it says to try: each runs, succeeds and writes nothing.
	tries := regexp.MustCompile(`(?m)^  ((?:openssl|`+regexp.QuoteMeta(bin)+`) .*)$`).FindAllStringSubmatch(out, -1)
	if len(tries) < 3 || !strings.HasPrefix(tries[0][1], "openssl verify ") {
		t.Fatalf("hack/demo.sh does not print the openssl check and the certctl commands to try:\n%s", out)
	}
	before := treetest.Snapshot(t, dir)
	for _, try := range tries {
		v, err := exec.Command("sh", "-c", try[1]).CombinedOutput()
		if err != nil {
			t.Errorf("the demo's %s: %v\n%s", try[1], err, v)
		}
		if strings.HasPrefix(try[1], "openssl ") && !strings.HasSuffix(strings.TrimSpace(string(v)), ": OK") {
			t.Errorf("the demo's %s:\n%s", try[1], v)
		}
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, dir))
	if again := demo(); strings.Contains(again, "Generating") {
		t.Errorf("a second make demo made files again:\n%s", again)
	}
}
