package copycerts

import (
	"bufio"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// umask is the process's file mode creation mask, read from
// /proc/self/status (Linux 4.7 and later) rather than set and set back
// with umask(2), which would race with the files other goroutines create;
// 022 when it cannot be read.
func umask() fs.FileMode {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0o022
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "Umask:"); ok {
			if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
				return fs.FileMode(m) & fs.ModePerm
			}
		}
	}
	return 0o022
}
