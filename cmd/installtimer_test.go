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
