package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsRepositoryPathsExist: every path of the repository that
// README.md and docs/*.md name (test/e2e, hack/bench.d/renew.sh,
// internal/exitcode/exitcode.go, ...) exists, so that a reader who looks
// for it finds it. docs/testing.md named test/crash, a suite that had
// gone. Paths under pki/ are left out: the documents' pki/ is a node's
// folder. README.md's layout table, whose rows name folders relative to
// each other, is TestReadmeLayout's.
func TestDocsRepositoryPathsExist(t *testing.T) {
	root := filepath.Join("..", "..")
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, filepath.Join(root, "README.md"))
	path := regexp.MustCompile("(?:^|[\\s`(\\[])((?:cmd|phases|manifests|internal|hack|test|examples|docs)/[\\w./-]*\\w)")
	checked := 0
	for _, doc := range docs {
		text := string(mustRead(t, doc))
		if before, layout, ok := strings.Cut(text, "\n### Layout\n"); ok {
			_, after, _ := strings.Cut(layout, "\n#")
			text = before + after
		}
		for _, m := range path.FindAllStringSubmatch(text, -1) {
			checked++
			if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
				t.Errorf("%s names %s, which is not in the repository", filepath.Base(doc), m[1])
			}
		}
	}
	if checked < 30 {
		t.Errorf("%d paths found in the documents: the search has broken", checked)
	}
}
