package reqfile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocumented: the example in docs/external-ca.md is a request file this
// package reads, and the field table there names every field it writes.
func TestDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "external-ca.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)\n```json\n(.*?)```\n").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/external-ca.md has no ```json example")
	}
	if _, err := Parse(m[1]); err != nil {
		t.Errorf("the documented example: %v", err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "apiserver.request.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(golden, &fields); err != nil {
		t.Fatal(err)
	}
	fields["kubeconfig"] = nil // the golden file is a key pair's
	// The first cells of the table rows: "`validity`, `validityDays`".
	var cells []string
	for _, line := range strings.Split(string(doc), "\n") {
		if parts := strings.SplitN(line, "|", 3); len(parts) == 3 && parts[0] == "" {
			cells = append(cells, parts[1])
		}
	}
	for f := range fields {
		documented := false
		for _, c := range cells {
			// "`subject.commonName`" documents subject.
			documented = documented || strings.Contains(c, "`"+f+"`") || strings.Contains(c, "`"+f+".")
		}
		if !documented {
			t.Errorf("docs/external-ca.md does not document the field %q", f)
		}
	}
}
