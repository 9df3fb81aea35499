package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestExitCodesDocSuccessStatuses: docs/exit-codes.md names the statuses
// the unit of `certctl install-timer` counts as success; a script author
// reads there which statuses fail the unit, so they must be the unit's.
func TestExitCodesDocSuccessStatuses(t *testing.T) {
	bin := certctlBin(t)
	units := run(t, bin, "install-timer", "--dry-run", "--node-name", "cp-1")
	unit := regexp.MustCompile(`(?m)^SuccessExitStatus=.*$`).FindString(units)
	data, err := os.ReadFile("../../docs/exit-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	if unit == "" || !strings.Contains(string(data), "`"+unit+"`") {
		t.Errorf("docs/exit-codes.md does not name the unit's %q", unit)
	}
}
