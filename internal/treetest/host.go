package treetest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// HostDirs are the machine's folders no test may write: kubeadm's (the
// defaults of every certctl folder flag) and systemd's unit folder
// (install-timer's default). Tests use temporary folders and flags.
var HostDirs = []string{"/etc/kubernetes", "/etc/systemd/system"}

// RunGuarded runs the tests of m and fails the run when they changed
// anything in HostDirs: a file or folder made, removed, or changed in
// mode, size or modification time. It is each TestMain of the packages
// that run certctl's commands or kubeadm: a printed command run without
// its folder flags, or kubeadm without its dry-run folder, writes
// there, and nothing else would notice. Packages run in parallel, so the
// change may be another package's: the message names the paths.
func RunGuarded(m *testing.M) int {
	before := hostState()
	code := m.Run()
	after := hostState()
	if gone, made := diffLines(before, after); len(gone)+len(made) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: a test changed the machine's %s (tests must use temporary folders and flags); remove what it made:\n", strings.Join(HostDirs, " or "))
		for _, l := range made {
			fmt.Fprintf(os.Stderr, "  now:    %s\n", l)
		}
		for _, l := range gone {
			fmt.Fprintf(os.Stderr, "  before: %s\n", l)
		}
		if code == 0 {
			code = 1
		}
	}
	return code
}

// hostState is one line per entry of HostDirs, sorted: its path, mode,
// size and modification time, or that the folder does not exist.
func hostState() []string {
	var out []string
	for _, root := range HostDirs {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				out = append(out, fmt.Sprintf("%s: %v", path, err))
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				out = append(out, fmt.Sprintf("%s: %v", path, err))
				return nil
			}
			out = append(out, fmt.Sprintf("%s %v %d %s", path, fi.Mode(), fi.Size(), fi.ModTime().UTC().Format("2006-01-02T15:04:05.000000000")))
			return nil
		})
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", root, err))
		}
	}
	slices.Sort(out)
	return out
}

// diffLines returns the lines of before not in after, and of after not
// in before; both sorted.
func diffLines(before, after []string) (gone, made []string) {
	for _, l := range before {
		if _, found := slices.BinarySearch(after, l); !found {
			gone = append(gone, l)
		}
	}
	for _, l := range after {
		if _, found := slices.BinarySearch(before, l); !found {
			made = append(made, l)
		}
	}
	return gone, made
}
