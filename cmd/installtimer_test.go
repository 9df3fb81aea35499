package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/renew"
)

// TestInstallTimerUnitDir: a unit folder that does not exist is named,
// not reported as a failed temporary file; nothing is written.
func TestInstallTimerUnitDir(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope")
	_, _, err := execute(t, "install-timer", "--unit-dir", missing)
	treetest.ErrMentions(t, err, "the unit folder "+missing+" does not exist", "--unit-dir")
	if strings.Contains(err.Error(), "temporary") {
		t.Errorf("error about a temporary file: %v", err)
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	_, _, err = execute(t, "install-timer", "--unit-dir", file)
	treetest.ErrMentions(t, err, file+" is not a folder")
	out, _, err := execute(t, "install-timer", "--unit-dir", dir, "--certctl-path", "/opt/my certctl/certctl")
	if err != nil || !strings.Contains(out, "Wrote "+filepath.Join(dir, renew.ServiceName)) {
		t.Fatalf("install-timer: %v\n%s", err, out)
	}
	unit, _ := os.ReadFile(filepath.Join(dir, renew.ServiceName))
	if !strings.Contains(string(unit), "\nExecStart=\"/opt/my certctl/certctl\" renew all ") {
		t.Errorf("unit:\n%s", unit)
	}
}

// TestInstallTimerDryRun: --dry-run, and --print its alias, print the units
// and write nothing; either refuses --unit-dir, naming itself.
func TestInstallTimerDryRun(t *testing.T) {
	var outs []string
	for _, flag := range []string{"--dry-run", "--print"} {
		out, _, err := execute(t, "install-timer", flag)
		if err != nil || !strings.Contains(out, "[Timer]") {
			t.Fatalf("install-timer %s: %v\n%s", flag, err, out)
		}
		outs = append(outs, out)
		dir := t.TempDir()
		_, _, err = execute(t, "install-timer", flag, "--unit-dir", dir)
		treetest.ErrMentions(t, err, flag+" writes nothing: drop --unit-dir or "+flag)
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("install-timer %s wrote %v", flag, entries)
		}
	}
	if outs[0] != outs[1] {
		t.Errorf("--dry-run and --print differ:\n%s\n%s", outs[0], outs[1])
	}
}
