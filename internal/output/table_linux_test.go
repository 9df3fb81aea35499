package output

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/term"

	"github.com/certctl/certctl/internal/ptytest"
)

// TestTableCutsToWidth: a default table is cut to the width on a
// terminal only; on a pipe or a file (a buffer here) its rows are whole,
// whatever $COLUMNS says, as kubectl never cuts them; -o wide never is.
func TestTableCutsToWidth(t *testing.T) {
	long := strings.Repeat("x", 120)
	whole := "NAME  VALUE\na     " + long + "\nb     short\n"
	for _, tc := range []struct {
		name     string
		columns  string
		terminal bool
		wide     bool
		want     string
	}{
		{"terminal: cut at $COLUMNS", "40", true, false, "NAME  VALUE\na     " + strings.Repeat("x", 33) + "…\nb     short\n"},
		{"terminal: cut at its width", "", true, false, "NAME  VALUE\na     " + strings.Repeat("x", 53) + "…\nb     short\n"},
		{"terminal: wide whole", "40", true, true, whole},
		{"terminal: fits", "200", true, false, whole},
		{"pipe: whole", "", false, false, whole},
		{"pipe: whole with $COLUMNS", "40", false, false, whole},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("COLUMNS", tc.columns)
			var b bytes.Buffer
			var out io.Writer = &b
			var ptmx *os.File
			if tc.terminal {
				var tty *os.File
				ptmx, tty = ptytest.Open(t, 60)
				// Raw: the terminal's side reads the bytes as written, no
				// "\r\n" for "\n".
				if _, err := term.MakeRaw(int(tty.Fd())); err != nil {
					t.Fatal(err)
				}
				out = tty
			}
			tw := NewTable(out, tc.wide)
			fmt.Fprintln(tw, "NAME\tVALUE")
			fmt.Fprintf(tw, "a\t%s\n", long)
			fmt.Fprintln(tw, "b\tshort")
			if err := tw.Flush(); err != nil {
				t.Fatal(err)
			}
			got := b.String()
			if tc.terminal {
				if err := ptmx.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 4096)
				for len(got) < len(tc.want) {
					n, err := ptmx.Read(buf)
					if err != nil {
						t.Fatal(err)
					}
					got += string(buf[:n])
				}
			}
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
