package cli

import (
	"io/fs"
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

// TestDocsNameExistingTests: every test, benchmark and fuzz target that
// README.md and docs/*.md name (docs/testing.md's tables, "TestRotateCAOnThreeNodes
// runs these steps", "BenchmarkKeyPool11RSA2048 (in make bench)") is a
// function of the repository, so that `go test -run NAME` finds it.
func TestDocsNameExistingTests(t *testing.T) {
	root := filepath.Join("..", "..")
	defined := map[string]bool{}
	fn := regexp.MustCompile(`(?m)^func ((?:Test|Benchmark|Fuzz)[A-Z]\w*)\(`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		for _, m := range fn.FindAllStringSubmatch(string(mustRead(t, path)), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, doc := range append(docs, filepath.Join(root, "README.md")) {
		for _, name := range regexp.MustCompile(`\b(?:Test|Benchmark|Fuzz)[A-Z]\w*`).FindAllString(string(mustRead(t, doc)), -1) {
			named++
			if !defined[name] {
				t.Errorf("%s names %s, which is no test of the repository", filepath.Base(doc), name)
			}
		}
	}
	if named < 20 {
		t.Errorf("%d tests named in the documents: the search has broken", named)
	}
}
