package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// runCols runs certctl with $COLUMNS set to columns ("" unsets it).
func runCols(t *testing.T, bin, columns string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "COLUMNS="+columns)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{out: out.String(), errOut: errOut.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("certctl %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// kcmManifest copies kubeadm's kube-controller-manager manifest (the
// manifests package's test data) into a temporary folder.
func kcmManifest(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "manifests", "testdata", "kubeadm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kube-controller-manager.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// outputNode is a node with one renewal behind it (a backup to list) and a
// kubeadm configuration file naming its certificate folder.
type outputNode struct {
	node
	config, manifest string
}

func makeOutputNode(t *testing.T, bin string) outputNode {
	t.Helper()
	n := makeNode(t, bin, "ECDSA-P256")
	run(t, bin, append([]string{"renew", "apiserver"}, n.flags()...)...)
	cfg := filepath.Join(t.TempDir(), "kubeadm.yaml")
	doc := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: " + n.certDir + "\n"
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return outputNode{node: n, config: cfg, manifest: kcmManifest(t)}
}

// printing lists every command that prints data, with the flags that
// point it at the node, and the kind of its -o json|yaml schema.
func (n outputNode) printing() []struct {
	args []string
	kind string
} {
	return []struct {
		args []string
		kind string
	}{
		{append([]string{"certs", "list"}, n.flags()...), "CertificateList"},
		{append([]string{"check-expiration"}, n.flags()...), "CertificateExpirationInfo"},
		{append([]string{"restore"}, n.flags()...), "BackupList"},
		{[]string{"signer", "status", "--cert-dir", n.certDir, "--manifest", n.manifest}, "SignerStatus"},
	}
}

// TestDefaultTablesFit100Columns: no line of any command's default table
// is wider than 100 columns; on a pipe, rows are never cut, even with
// $COLUMNS=40, as kubectl never cuts them; -o wide is not cut.
// TestTablesCutOnTerminal has the cut.
func TestDefaultTablesFit100Columns(t *testing.T) {
	bin := certctlBin(t)
	n := makeOutputNode(t, bin)
	for _, c := range n.printing() {
		name := strings.Join(c.args[:2], " ")
		r := runCols(t, bin, "", c.args...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", name, r.code, r.out, r.errOut)
		}
		for _, l := range strings.Split(r.out, "\n") {
			if utf8.RuneCountInString(l) > 100 {
				t.Errorf("%s: a line of %d columns: %q", name, utf8.RuneCountInString(l), l)
			}
		}
		if narrow := runCols(t, bin, "40", c.args...); narrow.out != r.out {
			t.Errorf("%s, COLUMNS=40 on a pipe: the output changed:\n%s\nwant\n%s", name, narrow.out, r.out)
		}
	}
	// The long columns are in wide, whole: the files' paths.
	for _, args := range [][]string{{"certs", "list"}, {"restore"}} {
		wide := runCols(t, bin, "100", append(append(args, "-o", "wide"), n.flags()...)...)
		if !strings.Contains(wide.out, n.dir+string(filepath.Separator)) || strings.Contains(wide.out, "…") {
			t.Errorf("%s -o wide: paths cut or missing:\n%s", strings.Join(args, " "), wide.out)
		}
	}
}

// TestOutputConvention: every command that prints data takes -o
// json|yaml|jsonpath= with one versioned schema, the same in JSON and YAML,
// and refuses an unknown format before any work.
func TestOutputConvention(t *testing.T) {
	bin := certctlBin(t)
	n := makeOutputNode(t, bin)
	type schema struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	for _, c := range n.printing() {
		name := strings.Join(c.args[:2], " ")
		var fromJSON, fromYAML map[string]any
		j := runOut(t, bin, append(c.args, "-o", "json")...)
		if err := json.Unmarshal([]byte(j), &fromJSON); err != nil {
			t.Fatalf("%s -o json: %v\n%s", name, err, j)
		}
		y := runOut(t, bin, append(c.args, "-o", "yaml")...)
		if err := yaml.Unmarshal([]byte(y), &fromYAML); err != nil {
			t.Fatalf("%s -o yaml: %v\n%s", name, err, y)
		}
		var s schema
		_ = json.Unmarshal([]byte(j), &s)
		if s.Kind != c.kind || s.APIVersion != "output.certctl.io/v1" {
			t.Errorf("%s: kind %q, apiVersion %q; want %s, output.certctl.io/v1", name, s.Kind, s.APIVersion, c.kind)
		}
		// Two runs: the same fields (check-expiration's times differ).
		if jk, yk := slices.Sorted(maps.Keys(fromJSON)), slices.Sorted(maps.Keys(fromYAML)); !slices.Equal(jk, yk) {
			t.Errorf("%s: -o json has %v, -o yaml %v", name, jk, yk)
		}
		if jp := runOut(t, bin, append(c.args, "-o", "jsonpath={.kind}")...); jp != c.kind+"\n" {
			t.Errorf("%s -o jsonpath={.kind}: %q", name, jp)
		}
		if r := runCode(t, bin, append(c.args, "-o", "xml")...); r.code == 0 || !strings.Contains(r.errOut, `unknown output format "xml"`) {
			t.Errorf("%s -o xml: exit %d, %s", name, r.code, r.errOut)
		}
	}

	// The summaries: renew, restore NAME and certs import print their
	// schema once, at the end, with nothing else on stdout.
	renewed := runOut(t, bin, append([]string{"renew", "front-proxy-client", "-o", "yaml"}, n.flags()...)...)
	var rs struct {
		Kind    string `json:"kind"`
		Renewed []struct {
			Name string `json:"name"`
		} `json:"renewed"`
	}
	if err := yaml.Unmarshal([]byte(renewed), &rs); err != nil || rs.Kind != "RenewalSummary" || len(rs.Renewed) != 1 || rs.Renewed[0].Name != "front-proxy-client" {
		t.Errorf("renew -o yaml: %+v, %v\n%s", rs, err, renewed)
	}
	// docs/cron.md's: the newest backup's name.
	backups, err := os.ReadDir(filepath.Join(n.dir, "certctl-backups"))
	if err != nil || len(backups) != 2 {
		t.Fatalf("backups: %v, %v", backups, err)
	}
	if newest := runOut(t, bin, append([]string{"restore", "-o", "jsonpath={.items[-1:].name}"}, n.flags()...)...); newest != backups[1].Name()+"\n" {
		t.Errorf("restore -o jsonpath={.items[-1:].name}: %q, want %s", newest, backups[1].Name())
	}
	restored := runOut(t, bin, append([]string{"restore", "latest", "--dry-run", "-o", "jsonpath={.kind} {.dryRun} {.restored[0]}"}, n.flags()...)...)
	if want := "RestoreSummary true " + filepath.Join(n.certDir, "front-proxy-client.crt") + "\n"; restored != want {
		t.Errorf("restore latest --dry-run -o jsonpath: %q, want %q", restored, want)
	}
	// An import that fails still prints its summary, with the exit status.
	imported := runCode(t, bin, append([]string{"certs", "import", "--csr-dir", t.TempDir(), "-o", "json"}, n.flags()...)...)
	var is struct {
		Kind     string `json:"kind"`
		ExitCode int    `json:"exitCode"`
		Error    string `json:"error"`
		Imported []any  `json:"imported"`
	}
	if err := json.Unmarshal([]byte(imported.out), &is); err != nil || is.Kind != "ImportSummary" || is.Imported == nil || imported.code != 1 || is.ExitCode != 1 || !strings.Contains(is.Error, "no signed certificate") {
		t.Errorf("certs import -o json of an empty folder: exit %d, %+v, %v\n%s%s", imported.code, is, err, imported.out, imported.errOut)
	}
}

// TestConfigForFolders: restore and certs import take --config, kubeadm's
// file, for the certificate folder, as every command that reads the node
// does; --cert-dir given wins, as in kubeadm.
func TestConfigForFolders(t *testing.T) {
	bin := certctlBin(t)
	n := makeOutputNode(t, bin)
	byConfig := runOut(t, bin, "restore", "--config", n.config, "--kubeconfig-dir", n.dir, "-o", "jsonpath={.root}")
	if want := filepath.Join(n.dir, "certctl-backups") + "\n"; byConfig != want {
		t.Errorf("restore --config: root %q, want %q", byConfig, want)
	}
	elsewhere := t.TempDir()
	flagWins := runOut(t, bin, "restore", "--config", n.config, "--cert-dir", filepath.Join(elsewhere, "pki"), "--kubeconfig-dir", elsewhere, "-o", "jsonpath={.root}")
	if want := filepath.Join(elsewhere, "certctl-backups") + "\n"; flagWins != want {
		t.Errorf("restore --config --cert-dir: root %q, want %q", flagWins, want)
	}
	// Nothing to import: the error is that, after it named the folders.
	r := runCode(t, bin, "certs", "import", "--csr-dir", t.TempDir(), "--config", n.config, "--kubeconfig-dir", n.dir, "--dry-run")
	if !strings.Contains(r.out, `certificate folder "`+n.certDir+`"`) || !strings.Contains(r.errOut, "no signed certificate") {
		t.Errorf("certs import --config: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	for _, args := range [][]string{{"certs", "list"}, {"signer", "status"}} {
		if r := runCode(t, bin, append(args, "--config", n.config, "--kubeconfig-dir", n.dir, "-o", "json")...); r.code != 0 || !strings.Contains(r.out, n.certDir) {
			t.Errorf("%s --config: exit %d\n%s%s", strings.Join(args, " "), r.code, r.out, r.errOut)
		}
	}
}
