package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadmeQuickStart runs the commands of README.md's first console
// block that need no API server or kubelet, in order, with a test node's
// folders added: each succeeds (the cron line: exit 2, nothing due), and
// those that need a cluster are exactly the ones this test leaves out.
func TestReadmeQuickStart(t *testing.T) {
	bin := certctlBin(t)
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)\n```console\n(.*?)```\n").FindStringSubmatch(string(data))
	if m == nil {
		t.Fatal("README.md has no console block")
	}
	cfg := newConfigNode(t) // init-phase's lines, with --config kubeadm.yaml
	n := makeRotationNode(t, bin)
	units, csrWork := t.TempDir(), t.TempDir()
	var cluster []string
	for _, line := range strings.Split(strings.TrimSpace(m[1]), "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(line, "$ "), "sudo "))
		args := strings.Fields(strings.TrimPrefix(line, "certctl "))
		switch {
		case strings.Contains(line, "--use-api") || strings.Contains(line, "signer run") ||
			strings.HasPrefix(line, "certctl approve") || strings.HasPrefix(line, "certctl ca rotate"):
			cluster = append(cluster, args[0]+" "+args[1])
		case strings.Contains(line, "--use-csr"):
			runDocCommand(t, bin, csrWork, line, "--config", cfg.config)
		case strings.HasPrefix(line, "certctl init-phase"):
			runDocCommand(t, bin, cfg.dir, line, kubeconfigDir(line, cfg.dir)...)
		default:
			want := 0
			switch args[0] {
			case "install-timer":
				args = append(args, "--unit-dir", units, "--certctl-path", bin, "--node-name", "cp-1")
			case "signer":
				args = append(args, "--manifest", filepath.Join(n.manifestDir, "kube-controller-manager.yaml"), "--cert-dir", n.certDir)
				if args[1] == "status" {
					args = append(args, "--kubeconfig-dir", n.dir)
				}
			case "renew":
				args = append(args, n.flags()...)
				if slices.Contains(args, "--restart-control-plane") {
					args, want = append(args, "--manifest-dir", n.manifestDir, "--jitter", "0s"), 2
				}
			default:
				args = append(args, n.flags()...)
			}
			if r := runCode(t, bin, args...); r.code != want {
				t.Errorf("README's %q (run as certctl %s): exit %d, want %d\n%s%s", line, strings.Join(args, " "), r.code, want, r.out, r.errOut)
			}
		}
	}
	if want := []string{"signer run", "renew apiserver", "approve --all-from-node", "ca rotate"}; !slices.Equal(cluster, want) {
		t.Errorf("README's commands left out (they need a cluster): %q, want %q", cluster, want)
	}
	for _, f := range []string{filepath.Join(cfg.certDir, "apiserver.crt"), filepath.Join(cfg.dir, "admin.conf"), filepath.Join(csrWork, "csr", "apiserver.csr"),
		filepath.Join(units, "certctl-renew.timer")} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
}
