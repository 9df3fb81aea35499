package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenewDocsConsole runs docs/renew.md's console examples that need no
// API server, as written, on a node made from a kubeadm.yaml (its folder in
// place of /etc/kubernetes, its configuration and kubeconfig folder added
// to each command), and compares what certctl prints with the document:
// times, serials and backup names aside, and "..." for lines left out.
func TestRenewDocsConsole(t *testing.T) {
	bin := certctlBin(t)
	for _, tc := range []struct {
		name, marker string
		prepare      func(t *testing.T, n configNode)
	}{
		{name: "on-disk renewal", marker: "$ sudo certctl renew all --config"},
		{name: "dry run", marker: "$ sudo certctl renew all --dry-run"},
		{name: "check-expiration", marker: "$ sudo certctl check-expiration\n", prepare: func(t *testing.T, n configNode) {
			// The document's problem: apiserver.key is another certificate's key.
			key, err := os.ReadFile(filepath.Join(n.certDir, "apiserver-kubelet-client.key"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(n.certDir, "apiserver.key"), key, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := makeConfigNode(t, bin)
			if tc.prepare != nil {
				tc.prepare(t, n)
			}
			block := docBlockIn(t, "renew.md", "console", tc.marker)
			// The document's --config /etc/kubernetes/kubeadm.yaml is the node's.
			block = strings.ReplaceAll(block, " --config /etc/kubernetes/kubeadm.yaml", "")
			want, got := runConsole(t, bin, block, n.dir, n.flags()...)
			checkConsole(t, "renew.md", want, got)
		})
	}
}

// TestRenewDocsNoneExists: renew all on folders that hold none of the
// files fails with the error docs/renew.md shows, its folders being the
// ones given.
func TestRenewDocsNoneExists(t *testing.T) {
	bin := certctlBin(t)
	dir := filepath.Join(t.TempDir(), "etc-kubernetes")
	if err := os.MkdirAll(filepath.Join(dir, "pki"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(strings.ReplaceAll(docBlockIn(t, "renew.md", "text", "error: none of the 11"), "/etc/kubernetes", dir))
	for _, args := range [][]string{{"renew", "all"}, {"renew", "all", "--dry-run"}, {"renew", "all", "--use-csr", "--csr-dir", filepath.Join(t.TempDir(), "csr")}} {
		r := runCode(t, bin, append(args, "--cert-dir", filepath.Join(dir, "pki"), "--kubeconfig-dir", dir)...)
		lines := strings.Split(strings.TrimSpace(r.errOut), "\n")
		if r.code != 1 || lines[len(lines)-1] != want {
			t.Errorf("certctl %s: exit %d, last line\n%s\nwant\n%s", strings.Join(args, " "), r.code, lines[len(lines)-1], want)
		}
	}
}

// TestRenewDocsConfigView runs docs/renew.md's `config view >
// /etc/kubernetes/certctl.yaml` and then install-timer with that file:
// the file is read back, and the unit renews with it.
func TestRenewDocsConfigView(t *testing.T) {
	bin := certctlBin(t)
	n := makeConfigNode(t, bin)
	lines := docCommands(t, docBlockIn(t, "renew.md", "sh", "certctl config view >"))
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "certctl config view > /etc/kubernetes/certctl.yaml") ||
		!strings.HasPrefix(lines[1], "certctl install-timer --config /etc/kubernetes/certctl.yaml") {
		t.Fatalf("docs/renew.md's config view block has changed: %q", lines)
	}
	pinned := filepath.Join(n.dir, "certctl.yaml")
	// The shell's redirection: stdout only.
	view := runOut(t, bin, "config", "view", "--config", n.config, "--kubeconfig-dir", n.dir)
	if err := os.WriteFile(pinned, []byte(view), 0o600); err != nil {
		t.Fatal(err)
	}
	units := t.TempDir()
	run(t, bin, "install-timer", "--config", pinned, "--unit-dir", units, "--certctl-path", bin, "--node-name", "cp-1")
	service, err := os.ReadFile(filepath.Join(units, "certctl-renew.service"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(service), " --config "+pinned) {
		t.Errorf("the unit does not renew with %s:\n%s", pinned, service)
	}
	// The pinned file is the node's: a dry run with it finds every file.
	out := run(t, bin, "renew", "all", "--dry-run", "--config", pinned, "--kubeconfig-dir", n.dir)
	if !strings.Contains(out, "[dry-run] 11 certificate(s) would be renewed") {
		t.Errorf("renew all --dry-run --config %s:\n%s", pinned, out)
	}
}
