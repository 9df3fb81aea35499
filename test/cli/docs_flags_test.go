package cli

import (
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/doctest"
)

// TestDocsCommandFlagsExist: every certctl command line of README.md and
// docs/*.md, in a block or inline (`certctl ...`), including those certctl
// prints for the reader to paste, names only flags its command has (as
// its --help lists them) and, where the command has a list of names, only
// arguments in it, so that none fails with "unknown flag" when copied.
// The tests of each document run the commands themselves where they can;
// this one also reaches the ones that need a cluster. TestHelpExamples
// does the same for the commands' --help examples.
func TestDocsCommandFlagsExist(t *testing.T) {
	c := &doctest.Checker{Bin: certctlBin(t)}
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, filepath.Join("..", "..", "README.md"))
	// Lines a document shows being refused, with what it says of them.
	refused := map[string]string{
		"certctl renew ca": "renew.md: CAs are not renewed (`certctl renew ca` says so)",
	}
	checked := 0
	for _, doc := range docs {
		for _, line := range doctest.CommandLines(string(mustRead(t, doc))) {
			if refused[line] != "" {
				continue
			}
			problems, n, err := c.Check(line)
			if err != nil {
				t.Errorf("docs %s: %q: %v", filepath.Base(doc), line, err)
			}
			checked += n
			for _, p := range problems {
				t.Errorf("docs %s: %q: %s", filepath.Base(doc), line, p)
			}
		}
	}
	if checked < 100 {
		t.Errorf("checked %d flags and arguments of the documents' certctl commands: the parsing has broken", checked)
	}
}
