package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestRenewHelpNamesItsExitStatuses: `renew --help` lists renew's own
// exit statuses beside the pointer to docs/exit-codes.md; it named 2 and
// 5 but not 6 (--use-api: some CSRs not issued), so a script author
// reading the help took the list for complete. Every status the doc's
// table gives to a renew command is named in the help.
func TestRenewHelpNamesItsExitStatuses(t *testing.T) {
	bin := certctlBin(t)
	data, err := os.ReadFile("../../docs/exit-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	help := run(t, bin, "renew", "--help")
	row := regexp.MustCompile("(?m)^\\| (\\d+) \\| `renew[^`]*` \\|")
	found := 0
	for _, m := range row.FindAllStringSubmatch(string(data), -1) {
		found++
		if !strings.Contains(help, m[1]+": ") {
			t.Errorf("renew --help does not name exit status %s of docs/exit-codes.md", m[1])
		}
	}
	if found < 3 {
		t.Fatalf("docs/exit-codes.md: %d rows of renew's statuses, want 2, 5 and 6", found)
	}
}
