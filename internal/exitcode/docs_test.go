package exitcode

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"
	"testing"
)

// documented is the row of docs/exit-codes.md's table for each status of
// this package: its command column. A status added here without a row
// there (or a row that names another status) fails TestDocumentedStatuses.
var documented = map[string]string{
	"OK":            "every command",
	"Failure":       "every command",
	"NothingToDo":   "`renew --if-expires-within`",
	"ExpiringSoon":  "`check-expiration`",
	"ImportRefused": "`certs import`",
	"Problems":      "`check-expiration`",
	"RestartOwed":   "`check-expiration`",
	"ExternalCA":    "`renew all`",
	"NotAllIssued":  "`renew --use-api`",
	"Interrupted":   "every command but `signer run`",
	"Terminated":    "every command but `signer run`",
	"BrokenPipe":    "every command",
}

// TestDocumentedStatuses: docs/exit-codes.md's table, which scripts, cron
// and systemd units branch on, has one row per status of this package, with
// its number and command, and no other row.
func TestDocumentedStatuses(t *testing.T) {
	statuses := constants(t)
	data, err := os.ReadFile("../../docs/exit-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| (\d+) \| ([^|]+) \|`).FindAllStringSubmatch(string(data), -1) {
		rows[m[1]+" | "+m[2]] = true
	}
	want := map[string]bool{}
	for name, code := range statuses {
		command, ok := documented[name]
		if !ok {
			t.Errorf("status %s (%d) has no row in docs/exit-codes.md's table (add it there and to documented)", name, code)
			continue
		}
		row := strconv.Itoa(code) + " | " + command
		want[row] = true
		if !rows[row] {
			t.Errorf("docs/exit-codes.md's table has no row %q for %s", "| "+row+" |", name)
		}
	}
	for row := range rows {
		if !want[row] {
			t.Errorf("docs/exit-codes.md's table has a row %q that is no status of internal/exitcode", "| "+row+" |")
		}
	}
	if len(statuses) < 8 {
		t.Fatalf("%d statuses read from exitcode.go: the parsing has broken", len(statuses))
	}
}

// constants are the integer constants of exitcode.go, by name.
func constants(t *testing.T) map[string]int {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "exitcode.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			for i, name := range v.Names {
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.INT {
					t.Fatalf("exitcode.go: %s is not an integer literal", name.Name)
				}
				n, err := strconv.Atoi(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out[name.Name] = n
			}
		}
	}
	return out
}
