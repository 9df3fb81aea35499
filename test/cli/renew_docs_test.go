package cli

import (
	"encoding/json"
	"github.com/certctl/certctl/internal/treetest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

// TestRenewDocsMissingFolder: renew all, check-expiration and certs list
// with a kubeconfig folder that does not exist, beside a certificate
// folder full of files, fail with the error docs/renew.md shows (exit 1),
// and nothing is written.
func TestRenewDocsMissingFolder(t *testing.T) {
	bin := certctlBin(t)
	n := makeConfigNode(t, bin)
	typo := filepath.Join(n.dir, "typo")
	// Only the folder: "kubeadm's is /etc/kubernetes" stays.
	want := strings.TrimSpace(strings.Replace(docBlockIn(t, "renew.md", "text", "error: the kubeconfig folder"), "/etc/kubernetes", n.dir, 1))
	before := treetest.Snapshot(t, n.dir)
	for _, args := range [][]string{{"renew", "all"}, {"renew", "all", "--dry-run"}, {"check-expiration"}, {"certs", "list"}} {
		r := runCode(t, bin, append(args, "--config", n.config, "--kubeconfig-dir", typo)...)
		lines := strings.Split(strings.TrimSpace(r.errOut), "\n")
		if r.code != 1 || lines[len(lines)-1] != want {
			t.Errorf("certctl %s: exit %d, last line\n%s\nwant\n%s", strings.Join(args, " "), r.code, lines[len(lines)-1], want)
		}
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.dir))
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

// TestRenewDocsUpdateSANs runs docs/renew.md's --update-sans command with a
// SAN added to the node's kubeadm.yaml: check-expiration --config reports
// the drift before, the certificate has the SAN after, and the drift is
// gone.
func TestRenewDocsUpdateSANs(t *testing.T) {
	bin := certctlBin(t)
	n := makeConfigNode(t, bin)
	cfg, err := os.ReadFile(n.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = append(cfg, "apiServer:\n  certSANs: [api.example.com]\n"...)
	if err := os.WriteFile(n.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	check := func() result {
		t.Helper()
		return runCode(t, bin, append([]string{"check-expiration"}, n.flags()...)...)
	}
	if r := check(); r.code != 3 || !strings.Contains(r.out, "san-drift") {
		t.Fatalf("check-expiration with a SAN added: exit %d, want 3 and san-drift\n%s%s", r.code, r.out, r.errOut)
	}
	for _, line := range docCommands(t, docBlockIn(t, "renew.md", "sh", "--update-sans --config kubeadm.yaml")) {
		runDocCommand(t, bin, n.dir, line, "--kubeconfig-dir", n.dir)
	}
	if sans := parseCert(t, filepath.Join(n.certDir, "apiserver.crt")).DNSNames; !slices.Contains(sans, "api.example.com") {
		t.Errorf("apiserver.crt's DNS SANs %q lack api.example.com", sans)
	}
	if r := check(); r.code != 0 {
		t.Errorf("check-expiration after --update-sans: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
}

// TestRenewDocsBackup: after renew all, the backup folder holds what
// docs/renew.md's tree shows, with 0700 folders, and its backup.json has
// every field of the document's, with the node's folders.
func TestRenewDocsBackup(t *testing.T) {
	bin := certctlBin(t)
	n := makeConfigNode(t, bin)
	run(t, bin, append([]string{"renew", "all"}, n.flags()...)...)
	backups, err := filepath.Glob(filepath.Join(n.dir, "certctl-backups", "*"))
	if err != nil || len(backups) != 1 || !regexp.MustCompile(`/\d{8}T\d{6}Z$`).MatchString(backups[0]) {
		t.Fatalf("backups %q (%v), want one named as the document's", backups, err)
	}
	tree := docBlockIn(t, "renew.md", "text", "/etc/kubernetes/certctl-backups/")
	for _, line := range strings.Split(strings.TrimSpace(tree), "\n")[1:] {
		f := strings.Fields(line)[0]
		if _, err := os.Stat(filepath.Join(backups[0], f)); err != nil {
			t.Errorf("docs/renew.md's backup tree: %v", err)
		}
	}
	for _, d := range []string{filepath.Join(n.dir, "certctl-backups"), backups[0], filepath.Join(backups[0], "pki"), filepath.Join(backups[0], "pki", "etcd")} {
		checkMode(t, d, 0o700)
	}
	var doc, got map[string]any
	if err := json.Unmarshal([]byte(docBlockIn(t, "renew.md", "json", `"certDir"`)), &doc); err != nil {
		t.Fatalf("docs/renew.md's backup.json: %v", err)
	}
	if err := json.Unmarshal(mustRead(t, filepath.Join(backups[0], "backup.json")), &got); err != nil {
		t.Fatal(err)
	}
	missingKeys(t, "backup.json", doc, got)
	missingKeys(t, "backup.json's files[0]", doc["files"].([]any)[0].(map[string]any), got["files"].([]any)[0].(map[string]any))
	if got["version"] != 1.0 || got["certDir"] != n.certDir || got["kubeconfigDir"] != n.dir {
		t.Errorf("backup.json: version %v, certDir %v, kubeconfigDir %v", got["version"], got["certDir"], got["kubeconfigDir"])
	}
}

// missingKeys fails the test for each key of doc that got lacks.
func missingKeys(t *testing.T, what string, doc, got map[string]any) {
	t.Helper()
	for k := range doc {
		if _, ok := got[k]; !ok {
			t.Errorf("%s has no %q, which docs/renew.md shows: %v", what, k, got)
		}
	}
}

// TestRenewDocsCheckExpirationJSON: check-expiration -o json has every
// field of docs/renew.md's example and table, with the kind and version
// it names.
func TestRenewDocsCheckExpirationJSON(t *testing.T) {
	bin := certctlBin(t)
	n := makeConfigNode(t, bin)
	var doc, got map[string]any
	example := strings.ReplaceAll(docBlockIn(t, "renew.md", "json", "CertificateExpirationInfo"), "[ ... ]", "[]")
	if err := json.Unmarshal([]byte(example), &doc); err != nil {
		t.Fatalf("docs/renew.md's check-expiration JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(runOut(t, bin, append([]string{"check-expiration", "-o", "json"}, n.flags()...)...)), &got); err != nil {
		t.Fatal(err)
	}
	missingKeys(t, "check-expiration -o json", doc, got)
	for _, k := range []string{"kind", "apiVersion"} {
		if got[k] != doc[k] {
			t.Errorf("%s %v, docs/renew.md says %v", k, got[k], doc[k])
		}
	}
	certs := got["certificates"].([]any)
	missingKeys(t, "check-expiration -o json's certificates[0]", doc["certificates"].([]any)[0].(map[string]any), certs[0].(map[string]any))
	// The table's top-level fields ("`restartsOwed[]`") and entries' (".caName").
	data := string(mustRead(t, "../../docs/renew.md"))
	section := data[strings.Index(data, "### JSON and YAML"):]
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-zA-Z.]+)(\\[\\])?`").FindAllStringSubmatch(section, -1) {
		if name, ok := strings.CutPrefix(m[1], "."); ok {
			if name == "notRenewed" { // absent but for etcd.external's files
				continue
			}
			if _, ok := certs[0].(map[string]any)[name]; !ok {
				t.Errorf("certificates[0] has no %q, which docs/renew.md's table lists: %v", name, certs[0])
			}
		} else if _, ok := got[m[1]]; !ok {
			t.Errorf("check-expiration -o json has no %q, which docs/renew.md's table lists", m[1])
		}
	}
}

// TestRenewDocsConfigLine: on a node without admin.conf and
// super-admin.conf, commands say on stderr, first, the [config] line
// docs/renew.md shows for settings derived from the certificates.
func TestRenewDocsConfigLine(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	for _, f := range []string{"admin.conf", "super-admin.conf"} {
		if err := os.Remove(filepath.Join(n.dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	var want string
	for _, l := range strings.Split(docBlockIn(t, "renew.md", "text", "[config] using"), "\n") {
		if strings.Contains(l, "derived from the certificates") {
			want = strings.ReplaceAll(l, "/etc/kubernetes/pki", n.certDir)
		}
	}
	prefix, ok := strings.CutSuffix(want, "...)")
	if !ok {
		t.Fatalf("docs/renew.md's [config] line has changed: %q", want)
	}
	for _, args := range [][]string{{"check-expiration"}, {"renew", "all", "--dry-run"}, {"config", "view"}} {
		r := runCode(t, bin, append(args, n.flags()...)...)
		first, _, _ := strings.Cut(r.errOut, "\n")
		if !strings.HasPrefix(first, prefix) || !strings.HasSuffix(first, ")") {
			t.Errorf("certctl %s: stderr begins %q, want %q", strings.Join(args, " "), first, want)
		}
	}
}

// TestRenewDocsRestoreRestartLine: restore latest after a renewal of
// etcd-server and scheduler.conf ends with the [restart] line
// docs/renew.md quotes, and saves what it replaces in a backup named as
// the document says a second one in the same second is (-002).
func TestRenewDocsRestoreRestartLine(t *testing.T) {
	bin := certctlBin(t)
	n := makeConfigNode(t, bin)
	m := regexp.MustCompile("`(\\[restart\\] Restart these components so that they use the\\s+restored certificates) \\.\\.\\.(: [^`]+)`").FindStringSubmatch(string(mustRead(t, "../../docs/renew.md")))
	if m == nil {
		t.Fatal("docs/renew.md no longer quotes restore's [restart] line")
	}
	run(t, bin, append([]string{"renew", "etcd-server", "scheduler.conf"}, n.flags()...)...)
	out := strings.TrimSpace(run(t, bin, append([]string{"restore", "latest"}, n.flags()...)...))
	last := out[strings.LastIndex(out, "\n")+1:]
	if prefix := strings.Join(strings.Fields(m[1]), " "); !strings.HasPrefix(last, prefix) || !strings.HasSuffix(last, m[2]) {
		t.Errorf("restore latest ends with\n%s\nwant\n%s ...%s", last, prefix, m[2])
	}
	backups, _ := filepath.Glob(filepath.Join(n.dir, "certctl-backups", "*"))
	if len(backups) != 2 || backups[1] != backups[0]+"-002" && !regexp.MustCompile(`/\d{8}T\d{6}Z$`).MatchString(backups[1]) {
		t.Errorf("backups %q: want the renewal's and the restore's, -002 when in the same second", backups)
	}
}

// TestRenewDocsRefusals: each refusal of docs/renew.md's "What is refused"
// table that a test can make as root says what the table's row says (its
// placeholders FILE, CA.crt, NAME, ... standing for any path or name, "..."
// for any text), exits 1 and changes nothing.
func TestRenewDocsRefusals(t *testing.T) {
	bin := certctlBin(t)
	data := string(mustRead(t, "../../docs/renew.md"))
	section := data[strings.Index(data, "### What is refused"):strings.Index(data, "A CA whose own key the policy refuses")]
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| ([^|`]+?)( \\(`[^|]*)? \\| `([^`]+)`").FindAllStringSubmatch(section, -1) {
		rows[m[1]] = m[3]
	}
	write := func(t *testing.T, path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		row    string
		damage func(t *testing.T, n configNode)
		names  []string // what to renew, all by default
	}{
		{"corrupt PEM, certificate or key", func(t *testing.T, n configNode) {
			write(t, filepath.Join(n.certDir, "apiserver.crt"), "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
		}, nil},
		{"key that does not match its certificate", func(t *testing.T, n configNode) {
			write(t, filepath.Join(n.certDir, "apiserver.key"), string(mustRead(t, filepath.Join(n.certDir, "apiserver-kubelet-client.key"))))
		}, nil},
		{"certificate not signed by its CA", func(t *testing.T, n configNode) {
			for _, ext := range []string{".crt", ".key"} {
				write(t, filepath.Join(n.certDir, "apiserver"+ext), string(mustRead(t, filepath.Join(n.certDir, "front-proxy-client"+ext))))
			}
		}, nil},
		{"missing CA key (external CA), for a certificate named", func(t *testing.T, n configNode) {
			if err := os.Remove(filepath.Join(n.certDir, "ca.key")); err != nil {
				t.Fatal(err)
			}
		}, []string{"apiserver", "front-proxy-client"}},
		{"kubeconfig without embedded certificate", func(t *testing.T, n configNode) {
			kc := string(mustRead(t, filepath.Join(n.dir, "admin.conf")))
			kc = regexp.MustCompile(`(?m)^    client-certificate-data: .*$`).ReplaceAllString(kc, "    client-certificate: /var/lib/admin.crt")
			write(t, filepath.Join(n.dir, "admin.conf"), kc)
		}, nil},
		{"malformed kubeconfig", func(t *testing.T, n configNode) {
			write(t, filepath.Join(n.dir, "admin.conf"), "apiVersion: v1\nkind: Config\nusers: {{{\n")
		}, nil},
		{"certificate, key or kubeconfig file that is a symbolic link", func(t *testing.T, n configNode) {
			crt := filepath.Join(n.certDir, "apiserver.crt")
			if err := os.Rename(crt, crt+".real"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(crt+".real", crt); err != nil {
				t.Fatal(err)
			}
		}, nil},
	} {
		t.Run(tc.row, func(t *testing.T) {
			says, ok := rows[tc.row]
			if !ok {
				t.Fatalf("docs/renew.md's refusal table has no row %q", tc.row)
			}
			pattern := regexp.QuoteMeta(says)
			for _, r := range []struct{ placeholder, re string }{{`\.\.\.`, `.*`}, {"CA\\.crt", `\S+`}, {"CA\\.key", `\S+`}, {"FILE", `\S+`}, {"TARGET", `\S+`}, {"NAME", `\S+`}} {
				pattern = strings.ReplaceAll(pattern, r.placeholder, r.re)
			}
			n := makeConfigNode(t, bin)
			tc.damage(t, n)
			if tc.names == nil {
				tc.names = []string{"all"}
			}
			r := runCode(t, bin, append(append([]string{"renew"}, tc.names...), n.flags()...)...)
			lines := strings.Split(strings.TrimSpace(r.errOut), "\n")
			last := strings.ReplaceAll(lines[len(lines)-1], "`", "")
			if r.code != 1 || !regexp.MustCompile(pattern).MatchString(last) {
				t.Errorf("renew %s: exit %d, last line\n%s\nwant (docs/renew.md)\n%s", tc.names, r.code, last, says)
			}
			if strings.Contains(r.out, " renewed: ") {
				t.Errorf("renew %s renewed something:\n%s", tc.names, r.out)
			}
		})
	}
}
