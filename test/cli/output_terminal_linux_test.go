package cli

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/certctl/certctl/internal/ptytest"
)

// TestTablesCutOnTerminal: on a terminal a default table's rows are cut
// to its width (here 40 columns, $COLUMNS unset), ending in "…", rather
// than wrapped; piped, the same command's rows are whole
// (TestDefaultTablesFit100Columns).
func TestTablesCutOnTerminal(t *testing.T) {
	bin := certctlBin(t)
	n := makeOutputNode(t, bin)
	out := onTerminal(t, 40, bin, append([]string{"certs", "list"}, n.flags()...)...)
	if !strings.Contains(out, "…\r\n") {
		t.Errorf("certs list on a terminal of 40 columns: nothing cut:\n%s", out)
	}
	for _, l := range strings.Split(out, "\r\n") {
		// A table row: columns two spaces apart (not an indented line).
		if utf8.RuneCountInString(l) > 40 && strings.Contains(strings.TrimLeft(l, " "), "  ") {
			t.Errorf("a table line of %d columns: %q", utf8.RuneCountInString(l), l)
		}
	}
}

// onTerminal runs certctl with its standard output on a terminal of cols
// columns, without $COLUMNS, and returns what it printed there.
func onTerminal(t *testing.T, cols int, bin string, args ...string) string {
	t.Helper()
	ptmx, tty := ptytest.Open(t, cols)
	cmd := exec.Command(bin, args...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "COLUMNS=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Stdout = tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the terminal ends (EIO) when certctl exits
	data, err := io.ReadAll(ptmx)
	if err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("certctl %s: %v\n%s", strings.Join(args, " "), err, data)
	}
	return string(data)
}
