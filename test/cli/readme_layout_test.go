package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeLayout: README.md's layout table is true to the tree, which is
// what a new maintainer reads it for. Every folder it has a row for
// exists; every top-level folder (but .git and the generated _output,
// _demo) has a row; and every Go package has a row of its own or is named
// in the row of the nearest folder above it that has one (`txn` in
// internal/'s, `reqfile/` in phases/external/'s, `cmd/certctl` in cmd/'s).
func TestReadmeLayout(t *testing.T) {
	root := filepath.Join("..", "..")
	rows := layoutRows(t, string(mustRead(t, filepath.Join(root, "README.md"))))
	for dir := range rows {
		if fi, err := os.Stat(filepath.Join(root, dir)); err != nil || !fi.IsDir() {
			t.Errorf("README.md's layout has a row for %s, which is no folder of the tree", dir)
		}
	}
	top, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range top {
		if e.IsDir() && e.Name() != ".git" && !strings.HasPrefix(e.Name(), "_") && rows[e.Name()+"/"] == "" {
			t.Errorf("README.md's layout has no row for the top-level folder %s/", e.Name())
		}
	}
	for _, pkg := range goPackages(t, root) {
		if rows[pkg+"/"] != "" {
			continue
		}
		parent := pkg
		for rows[parent+"/"] == "" && parent != "." {
			parent = filepath.Dir(parent)
		}
		rest := strings.TrimPrefix(pkg, parent+"/")
		text := rows[parent+"/"]
		if !strings.Contains(text, "`"+rest+"`") && !strings.Contains(text, "`"+rest+"/`") && !strings.Contains(text, "`"+pkg+"`") {
			t.Errorf("README.md's layout does not name the package %s: no row of its own, and %s/'s row does not name `%s`", pkg, parent, rest)
		}
	}
}

// layoutRows are the rows of README.md's "### Layout" table: folder
// ("phases/renewal/") to what it says the folder holds.
func layoutRows(t *testing.T, readme string) map[string]string {
	t.Helper()
	_, layout, ok := strings.Cut(readme, "\n### Layout\n")
	if !ok {
		t.Fatal("README.md has no \"### Layout\" section")
	}
	layout, _, _ = strings.Cut(layout, "\n#")
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+/)` \\| (.+) \\|$").FindAllStringSubmatch(layout, -1) {
		rows[m[1]] = m[2]
	}
	if len(rows) < 10 {
		t.Fatalf("README.md's layout: %d rows read, the table's format has changed", len(rows))
	}
	return rows
}

// goPackages are the folders under root that hold Go files, relative to
// root, but for testdata and the generated folders.
func goPackages(t *testing.T, root string) []string {
	t.Helper()
	seen := map[string]bool{}
	var pkgs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			dir, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			if !seen[dir] {
				seen[dir] = true
				pkgs = append(pkgs, filepath.ToSlash(dir))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 30 {
		t.Fatalf("%d Go packages found under %s: the walk has broken", len(pkgs), root)
	}
	return pkgs
}
