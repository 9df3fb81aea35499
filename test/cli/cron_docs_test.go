package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/doctest"
)

// docBlock returns the fenced block of docs/cron.md whose info string is
// info ("ini certctl-renew.service").
func docBlock(t *testing.T, info string) string {
	t.Helper()
	return docBlockIn(t, "cron.md", info, "")
}

// docBlockIn returns the first fenced block of docs/DOC whose info string
// is info and whose text contains marker.
func docBlockIn(t *testing.T, doc, info, marker string) string {
	t.Helper()
	block, err := doctest.Block(filepath.Join("..", "..", "docs"), doc, info, marker)
	if err != nil {
		t.Fatal(err)
	}
	return block
}

// TestDocumentedUnitsAreInstallTimers: the units in docs/cron.md are what
// `certctl install-timer` writes, and systemd accepts them (where
// systemd-analyze is installed).
func TestDocumentedUnitsAreInstallTimers(t *testing.T) {
	bin := certctlBin(t)
	service, timer := docBlock(t, "ini certctl-renew.service"), docBlock(t, "ini certctl-renew.timer")
	want := "# /etc/systemd/system/certctl-renew.service\n" + service + "\n# /etc/systemd/system/certctl-renew.timer\n" + timer
	// The command the document says prints these units.
	shown := regexp.MustCompile("On node `cp-1` \\(`(certctl install-timer [^`]*)`\\)").FindStringSubmatch(string(mustRead(t, "../../docs/cron.md")))
	if shown == nil {
		t.Fatal("docs/cron.md no longer says which command prints its units")
	}
	if got := run(t, bin, strings.Fields(strings.TrimPrefix(shown[1], "certctl "))...); got != want {
		t.Errorf("%s differs from docs/cron.md:\n%s\nwant:\n%s", shown[1], got, want)
	}
	// The document's install line, into a temporary folder.
	dir := t.TempDir()
	for _, line := range docCommands(t, docBlockIn(t, "cron.md", "sh", "sudo certctl install-timer")) {
		runDocCommand(t, bin, dir, line, "--unit-dir", dir, "--certctl-path", bin, "--node-name", "cp-1")
	}
	for name, doc := range map[string]string{"certctl-renew.service": service, "certctl-renew.timer": timer} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != strings.ReplaceAll(doc, "/usr/local/bin/certctl", bin) {
			t.Errorf("installed %s differs from docs/cron.md:\n%s", name, got)
		}
	}
	verifyUnits(t, dir)
}

// TestDocumentedUnitsQuoteTheCertctlPath: a certctl in a folder whose name
// has a space and a "%" (a systemd specifier) is one ExecStart word that
// systemd runs as that file; a path systemd cannot run is refused.
func TestDocumentedUnitsQuoteTheCertctlPath(t *testing.T) {
	bin := certctlBin(t)
	dir := t.TempDir()
	odd := filepath.Join(dir, "my bin%h", "certctl")
	if err := os.MkdirAll(filepath.Dir(odd), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, odd); err != nil {
		t.Fatal(err)
	}
	units := filepath.Join(dir, "units")
	os.Mkdir(units, 0o755)
	run(t, bin, "install-timer", "--unit-dir", units, "--certctl-path", odd)
	service, err := os.ReadFile(filepath.Join(units, "certctl-renew.service"))
	if err != nil {
		t.Fatal(err)
	}
	want := "\nExecStart=\"" + strings.ReplaceAll(odd, "%", "%%") + "\" renew all --if-expires-within 720h "
	if !strings.Contains(string(service), want) {
		t.Errorf("ExecStart is not %q...:\n%s", want, service)
	}
	verifyUnits(t, units)
	r := runCode(t, bin, "install-timer", "--unit-dir", units, "--certctl-path", filepath.Join(dir, `a"b`, "certctl"))
	if r.code != 1 || !strings.Contains(r.errOut, "systemd refuses") {
		t.Errorf("a quote in the path: exit %d, %s", r.code, r.errOut)
	}
}

// verifyUnits runs systemd-analyze verify on the units in dir, where it
// is installed.
func verifyUnits(t *testing.T, dir string) {
	t.Helper()
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Logf("systemd-analyze not installed: units not verified by systemd")
		return
	}
	out, err := exec.Command(sa, "verify", filepath.Join(dir, "certctl-renew.service"), filepath.Join(dir, "certctl-renew.timer")).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestDocumentedCommandsRun runs the timer's ExecStart and the crontab
// line of docs/cron.md as written, on a test node (its folders added at
// the end): on fresh certificates they have nothing to do (exit 2, which
// the unit counts as success; silent for cron), on certificates that
// expire within 30 days they renew.
func TestDocumentedCommandsRun(t *testing.T) {
	bin := certctlBin(t)
	service := docBlock(t, "ini certctl-renew.service")
	var execStart []string
	for _, l := range strings.Split(service, "\n") {
		if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
			execStart = strings.Fields(v)
		}
	}
	if !strings.Contains(service, "SuccessExitStatus=2 5 143 SIGTERM\n") || len(execStart) < 2 || execStart[0] != "/usr/local/bin/certctl" {
		t.Fatalf("unit: ExecStart %q", execStart)
	}
	cron := strings.Fields(docBlock(t, "text /etc/cron.d/certctl"))
	if len(cron) < 8 || cron[5] != "root" || cron[6] != "/usr/local/bin/certctl" {
		t.Fatalf("crontab line %q: want 5 time fields, root, /usr/local/bin/certctl", cron)
	}
	for _, f := range cron[:5] {
		if !regexp.MustCompile(`^(\*|[0-9]+)$`).MatchString(f) {
			t.Errorf("crontab time field %q", f)
		}
	}
	lines := map[string][]string{"timer": execStart[1:], "cron": append(cron[7:], "--jitter", "0s")}
	for name, args := range lines {
		t.Run(name, func(t *testing.T) {
			n := makeNode(t, bin, "ECDSA-P256")
			manifests := t.TempDir() // no static pods: nothing to restart
			folders := append(n.flags(), "--manifest-dir", manifests)
			r := runCode(t, bin, append(append([]string{}, args...), folders...)...)
			if r.code != 2 {
				t.Errorf("fresh certificates: exit %d, want 2 (nothing to do)\n%s%s", r.code, r.out, r.errOut)
			}
			if name == "cron" && r.out+r.errOut != "" {
				t.Errorf("cron would mail on the usual day: %q", r.out+r.errOut)
			}
			run(t, bin, append([]string{"renew", "all", "--certificate-validity", "240h"}, n.flags()...)...)
			r = runCode(t, bin, append(append([]string{}, args...), folders...)...)
			if r.code != 0 {
				t.Errorf("certificates expiring in 10 days: exit %d, want 0\n%s%s", r.code, r.out, r.errOut)
			}
			if name == "timer" && !strings.Contains(r.out, "[renew] apiserver renewed") {
				t.Errorf("timer run output:\n%s", r.out)
			}
			verifyOpenSSL(t, n.pairs(t, t.TempDir()))
		})
	}
}
