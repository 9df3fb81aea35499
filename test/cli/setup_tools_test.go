package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// essential are the commands the tests run that every Debian has (its
// Essential packages: coreutils, util-linux, bash, dash), and go, which
// hack/setup.sh checks on its own.
var essential = map[string]bool{
	"bash": true, "sh": true, "cp": true, "mv": true, "sleep": true, "true": true, "base64": true,
	"flock": true, "unshare": true, "go": true,
}

// TestSetupInstallsWhatTestsRun: every program the tests run by name
// (exec.Command, exec.CommandContext, exec.LookPath with a literal name)
// is one hack/setup.sh installs when it is missing, or one every Debian
// has; and docs/testing.md lists what it installs. A test that finds no chattr, mount or systemd-analyze skips, so a
// CI machine without them passed while never running what those tests
// check.
func TestSetupInstallsWhatTestsRun(t *testing.T) {
	root := filepath.Join("..", "..")
	setup := string(mustRead(t, filepath.Join(root, "hack", "setup.sh")))
	installs := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*\[([a-z0-9.-]+)\]=[a-z0-9.-]+$`).FindAllStringSubmatch(setup, -1) {
		installs[m[1]] = true
	}
	if len(installs) < 5 {
		t.Fatalf("hack/setup.sh: %d commands read from its need table, the table's format has changed", len(installs))
	}
	// docs/testing.md's `make setup` row lists the packages.
	row := regexp.MustCompile("(?m)^\\| `make setup` \\|.*$").FindString(string(mustRead(t, filepath.Join(root, "docs", "testing.md"))))
	for _, m := range regexp.MustCompile(`(?m)^\s*\[[a-z0-9.-]+\]=([a-z0-9.-]+)$`).FindAllStringSubmatch(setup, -1) {
		if !strings.Contains(row, m[1]) {
			t.Errorf("docs/testing.md's make setup row does not name %s, which hack/setup.sh installs:\n%s", m[1], row)
		}
	}
	call := regexp.MustCompile(`exec\.(?:Command|CommandContext|LookPath)\((?:ctx, )?"([^"]+)"`)
	run := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range call.FindAllStringSubmatch(string(data), -1) {
			run[m[1]] = append(run[m[1]], filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator))))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(run) < 10 {
		t.Fatalf("%d programs found that the tests run: the search has broken", len(run))
	}
	var names []string
	for name := range run {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !installs[name] && !essential[name] && !strings.Contains(name, "/") { // "../../hack/version.sh": the project's own
			t.Errorf("%s: runs %q, which hack/setup.sh does not install", strings.Join(unique(run[name]), ", "), name)
		}
	}
}

func unique(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
