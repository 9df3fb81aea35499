package treetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHostState: what RunGuarded compares sees a folder made where there
// was none, a file made, changed or removed, and nothing when nothing
// changed.
func TestHostState(t *testing.T) {
	root := t.TempDir()
	kube, units := filepath.Join(root, "etc-kubernetes"), filepath.Join(root, "units")
	if err := os.Mkdir(units, 0o755); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(units, "x.service")
	if err := os.WriteFile(unit, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	saved := HostDirs
	HostDirs = []string{kube, units}
	t.Cleanup(func() { HostDirs = saved })

	for _, tc := range []struct {
		name       string
		change     func() error
		gone, made string // a path each diff must name; "" for none
	}{
		{"nothing", func() error { return nil }, "", ""},
		{"a folder made", func() error { return os.MkdirAll(filepath.Join(kube, "pki"), 0o755) }, kube + ": ", filepath.Join(kube, "pki") + " "},
		{"a file changed", func() error { return os.WriteFile(unit, []byte("ab"), 0o644) }, unit + " ", unit + " "},
		// The folder's modification time changes too.
		{"a file made", func() error { return os.WriteFile(filepath.Join(units, "y.timer"), nil, 0o644) }, units + " ", filepath.Join(units, "y.timer") + " "},
		{"a file removed", func() error { return os.Remove(unit) }, unit + " ", units + " "},
		{"a mode changed", func() error { return os.Chmod(units, 0o700) }, units + " ", units + " "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := hostState()
			time.Sleep(10 * time.Millisecond) // a later modification time
			if err := tc.change(); err != nil {
				t.Fatal(err)
			}
			gone, made := diffLines(before, hostState())
			for _, c := range []struct {
				lines []string
				want  string
			}{{gone, tc.gone}, {made, tc.made}} {
				if c.want == "" && len(c.lines) > 0 || c.want != "" && !strings.Contains(strings.Join(c.lines, "\n"), c.want) {
					t.Errorf("gone %q, made %q; want them to name %q and %q", gone, made, tc.gone, tc.made)
				}
			}
		})
	}
}
