package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestInitDocsMakeEverything: docs/init.md's "Make everything" commands
// (makeConfigNode runs them) make every file of its "What is made" tables,
// with the modes it gives, and a second run keeps them ("Using the
// existing ...", kubeadm's "Using existing kubeconfig file").
func TestInitDocsMakeEverything(t *testing.T) {
	bin := certctlBin(t)
	n := makeConfigNode(t, bin)
	doc, err := os.ReadFile("../../docs/init.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(doc)[strings.Index(string(doc), "## What is made"):strings.Index(string(doc), "## One phase at a time")]
	var files []string
	for _, m := range regexp.MustCompile("(?m)^\\| `[a-z-]+` \\| ([^|]*)\\|").FindAllStringSubmatch(section, -1) {
		for _, f := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(m[1], -1) {
			name := f[1]
			if base, ok := strings.CutSuffix(name, ".*"); ok {
				files = append(files, base+".crt", base+".key")
				continue
			}
			files = append(files, name)
		}
	}
	if len(files) != 22 {
		t.Fatalf("docs/init.md's certificate table lists %d files, want 22: %q", len(files), files)
	}
	for _, f := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(f, ".key") || f == "sa.pub" {
			mode = 0o600
		}
		checkMode(t, filepath.Join(n.certDir, f), mode)
	}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z-]+\\.conf)` \\|").FindAllStringSubmatch(section, -1) {
		checkMode(t, filepath.Join(n.dir, m[1]), 0o600)
	}
	for _, line := range docCommands(t, docBlockIn(t, "init.md", "sh", "init-phase certs all --config kubeadm.yaml")) {
		if out := runDocCommand(t, bin, n.dir, line, kubeconfigDir(line, n.dir)...); !regexp.MustCompile(`Using (the )?existing`).MatchString(out) || strings.Contains(out, "Generating") {
			t.Errorf("%s, run again:\n%s", line, out)
		}
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
	}
}

// TestInitDocsOnePhaseAtATime runs docs/init.md's "One phase at a time"
// commands on an empty folder after `certctl init-phase certs ca`, which
// the document says a leaf phase needs first: the apiserver certificate
// has the extra SAN, admin.conf is made, and --help lists every phase of
// the document's table.
func TestInitDocsOnePhaseAtATime(t *testing.T) {
	bin := certctlBin(t)
	dir := filepath.Join(t.TempDir(), "etc-kubernetes")
	certDir := []string{"--cert-dir", filepath.Join(dir, "pki")}
	block := docBlockIn(t, "init.md", "sh", "certctl init-phase certs apiserver")
	if !strings.Contains(string(mustRead(t, "../../docs/init.md")), "(`certctl init-phase certs ca` first)") {
		t.Fatal("docs/init.md no longer says to make the CA first")
	}
	run(t, bin, append([]string{"init-phase", "certs", "ca"}, certDir...)...)
	var help string
	for _, line := range docCommands(t, block) {
		out := runDocCommand(t, bin, dir, line, append(certDir, kubeconfigDir(line, dir)...)...)
		if strings.HasSuffix(line, "--help") {
			help = out
		}
	}
	if sans := parseCert(t, filepath.Join(dir, "pki", "apiserver.crt")).DNSNames; !slices.Contains(sans, "api.example.com") {
		t.Errorf("apiserver.crt's DNS SANs %q lack api.example.com", sans)
	}
	if _, err := os.Stat(filepath.Join(dir, "admin.conf")); err != nil {
		t.Error(err)
	}
	table := string(mustRead(t, "../../docs/init.md"))
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| `").FindAllStringSubmatch(table, -1) {
		if !regexp.MustCompile(`(?m)^Phases: .*\b` + regexp.QuoteMeta(m[1]) + `(,|$)`).MatchString(help) {
			t.Errorf("init-phase certs --help does not list the phase %s of docs/init.md", m[1])
		}
	}
}

// TestInitDocsCSR runs docs/init.md's --use-csr commands in a folder of
// their own with its kubeadm.yaml: the files the document lists are
// there, keys and kubeconfigs 0600, no certificate is written, and each
// run ends with the certs import command.
func TestInitDocsCSR(t *testing.T) {
	bin := certctlBin(t)
	n := makeConfigNode(t, bin) // for its kubeadm.yaml, in another folder
	dir := t.TempDir()
	cfg := strings.ReplaceAll(string(mustRead(t, n.config)), n.certDir, filepath.Join(dir, "pki"))
	if err := os.WriteFile(filepath.Join(dir, "kubeadm.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, line := range docCommands(t, docBlockIn(t, "init.md", "sh", "--use-csr --csr-dir ./csr")) {
		out := strings.TrimSpace(runDocCommand(t, bin, dir, line, kubeconfigDir(line, filepath.Join(dir, "kc"))...))
		last := out[strings.LastIndex(out, "\n")+1:]
		if !strings.HasPrefix(strings.TrimSpace(last), "certctl certs import --csr-dir csr ") {
			t.Errorf("%s ends with %q, want the certs import command", line, last)
		}
	}
	csr := filepath.Join(dir, "csr")
	for _, f := range []string{"apiserver.key", "admin.conf", "super-admin.conf", "etcd/server.key"} {
		checkMode(t, filepath.Join(csr, f), 0o600)
	}
	for _, f := range []string{"apiserver.csr", "apiserver.request.json", "etcd/server.csr", "admin.conf.csr", "admin.conf.request.json"} {
		if _, err := os.Stat(filepath.Join(csr, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pki")); !os.IsNotExist(err) {
		t.Errorf("--use-csr touched the certificate folder: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
