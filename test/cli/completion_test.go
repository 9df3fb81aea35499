package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// complete runs cobra's hidden __complete command, as the shell scripts of
// `certctl completion` do, and returns the candidates (the last line is
// the directive).
func complete(t *testing.T, bin string, args ...string) []string {
	t.Helper()
	r := runCode(t, bin, append([]string{"__complete"}, args...)...)
	out := r.out
	if r.code != 0 {
		t.Fatalf("__complete %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.out, r.errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
		t.Fatalf("__complete %s: no directive:\n%s", strings.Join(args, " "), out)
	}
	return lines[:len(lines)-1]
}

// TestCompletion: the shells' scripts exist, and the dynamic completions
// give the backups on disk, the inventory's certificate and kubeconfig
// names, each command's -o values and the signer names.
func TestCompletion(t *testing.T) {
	bin := certctlBin(t)
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		if out := run(t, bin, "completion", sh); !strings.Contains(out, "certctl") || len(out) < 1000 {
			t.Errorf("completion %s: %d bytes", sh, len(out))
		}
	}
	if r := runCode(t, bin, "completion", "tcsh"); r.code == 0 || !strings.Contains(r.errOut, "valid commands are bash, fish, powershell, zsh") {
		t.Errorf("completion tcsh: exit %d, %s", r.code, r.errOut)
	}

	n := makeNode(t, bin, "ECDSA-P256")
	run(t, bin, append([]string{"renew", "apiserver"}, n.flags()...)...)
	backups, err := os.ReadDir(filepath.Join(n.dir, "certctl-backups"))
	if err != nil || len(backups) != 1 {
		t.Fatalf("backups %v, %v", backups, err)
	}
	if got := complete(t, bin, "restore", "--cert-dir", n.certDir, ""); !slices.Equal(got, []string{"latest", backups[0].Name()}) {
		t.Errorf("restore: %q, want latest and %s", got, backups[0].Name())
	}
	if got := complete(t, bin, "restore", "--cert-dir", filepath.Join(t.TempDir(), "pki"), ""); !slices.Equal(got, []string{"latest"}) {
		t.Errorf("restore without backups: %q", got)
	}

	inv := pki.Kubeadm()
	certs := inv.Certificates(pki.Node{})
	var initCerts []string
	for _, p := range certs {
		initCerts = append(initCerts, p.Name)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"renew", ""}, renewal.Names()},
		{[]string{"certs", "renew", ""}, renewal.Names()},
		{[]string{"init-phase", "certs", ""}, append([]string{"all"}, initCerts...)},
		{[]string{"certs", "list", "-o", ""}, []string{"text", "wide", "json", "yaml", "jsonpath="}},
		{[]string{"check-expiration", "-o", ""}, []string{"text", "wide", "json", "yaml", "jsonpath=", "prometheus"}},
		{[]string{"renew", "-o", ""}, []string{"text", "wide", "json", "yaml", "jsonpath="}},
		{[]string{"restore", "-o", ""}, []string{"text", "wide", "json", "yaml", "jsonpath="}},
	} {
		got := complete(t, bin, tc.args...)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", strings.Join(tc.args, " "), got, w)
			}
		}
	}
	kcs := complete(t, bin, "init-phase", "kubeconfig", "")
	for _, k := range inv.Kubeconfigs(pki.Node{}) {
		if name := strings.TrimSuffix(k.BaseName, ".conf"); !slices.Contains(kcs, name) {
			t.Errorf("init-phase kubeconfig: %q lacks %q", kcs, name)
		}
	}
	// renew --signer-name NAME=SIGNER: names, then the signers, the default first.
	if got := complete(t, bin, "renew", "--signer-name", ""); !slices.Contains(got, "apiserver=") {
		t.Errorf("--signer-name: %q", got)
	}
	got := complete(t, bin, "renew", "--signer-name", "apiserver=")
	if len(got) == 0 || got[0] != "apiserver=certctl.io/kube-apiserver-serving" || !slices.Contains(got, "apiserver=kubernetes.io/kube-apiserver-client") {
		t.Errorf("--signer-name apiserver=: %q", got)
	}
	for _, s := range inv.Signers() {
		if !slices.Contains(got, "apiserver="+s) {
			t.Errorf("--signer-name apiserver=: %q lacks %s", got, s)
		}
	}
}

// TestFlagsEverywhere: -v raises the detail on stderr (certctl's lines and
// client-go's klog), an unknown flag ends with the --help hint, and `certs
// generate-csr` is kubeadm's spelling of init-phase certs all --use-csr
// and init-phase kubeconfig all --use-csr.
func TestFlagsEverywhere(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	quiet := runCode(t, bin, append([]string{"restore"}, n.flags()...)...)
	loud := runCode(t, bin, append([]string{"restore", "-v", "2"}, n.flags()...)...)
	if quiet.errOut != "" || !strings.Contains(loud.errOut, "listing the backups beside "+n.certDir) || quiet.out != loud.out {
		t.Errorf("-v 2: stderr %q (without: %q)", loud.errOut, quiet.errOut)
	}
	// client-go's own lines: -v 6 logs each API request.
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	kubeconfig := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]\n" +
		"users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
	if err := os.WriteFile(kc, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	request := `"Response" verb="GET" url="https://127.0.0.1:1/apis/certificates.k8s.io/v1/certificatesigningrequests/csr-1"`
	if r := runCode(t, bin, "approve", "csr-1", "--force", "--kubeconfig", kc, "-v", "6"); r.code == 0 || !strings.Contains(r.errOut, request) {
		t.Errorf("approve -v 6: exit %d, stderr lacks %s:\n%s", r.code, request, r.errOut)
	}
	if r := runCode(t, bin, "approve", "csr-1", "--force", "--kubeconfig", kc); strings.Contains(r.errOut, `"Response"`) {
		t.Errorf("approve without -v logs requests:\n%s", r.errOut)
	}
	if r := runCode(t, bin, "restore", "-v", "x"); r.code == 0 || !strings.Contains(r.errOut, "not a verbosity level") {
		t.Errorf("-v x: exit %d, %s", r.code, r.errOut)
	}

	for _, args := range [][]string{{"certs", "list", "--bogus"}, {"restore", "--bogus"}, {"approve", "x", "--bogus"}, {"signer", "status", "--bogus"}, {"certs", "generate-csr", "--bogus"}} {
		r := runCode(t, bin, args...)
		hint := "(see 'certctl " + strings.Join(args[:len(args)-1], " ") + " --help')\n"
		if args[0] == "approve" {
			hint = "(see 'certctl approve --help')\n"
		}
		if r.code == 0 || !strings.HasSuffix(r.errOut, hint) {
			t.Errorf("%s: exit %d, stderr %q; want it to end with %q", strings.Join(args, " "), r.code, r.errOut, hint)
		}
	}

	csrDir := filepath.Join(t.TempDir(), "csr")
	r := runCode(t, bin, "certs", "generate-csr", "--csr-dir", csrDir, "--cert-dir", n.certDir, "--kubeconfig-dir", n.dir, "--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10")
	if r.code != 0 || !strings.Contains(r.out, "certctl certs import --csr-dir "+csrDir+" --cert-dir "+n.certDir+" --kubeconfig-dir "+n.dir) {
		t.Errorf("certs generate-csr: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	for _, f := range []string{"apiserver.csr", "apiserver.key", "etcd/server.csr", "front-proxy-client.csr", "admin.conf", "admin.conf.csr", "kubelet.conf.request.json"} {
		if _, err := os.Stat(filepath.Join(csrDir, f)); err != nil {
			t.Errorf("certs generate-csr: %v", err)
		}
	}
}
