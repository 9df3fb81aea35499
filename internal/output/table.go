package output

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"golang.org/x/term"
)

// DefaultWidth is the width Width gives when neither $COLUMNS nor a
// terminal says otherwise: the "fits 100 columns", which the
// default tables' columns are chosen to fit.
const DefaultWidth = 100

// MinWidth is the narrowest a table is cut to: below it a row keeps
// little more than its name ("apiserver  …"), and a terminal's wrapped
// lines say more.
const MinWidth = 40

// Width is how many columns text on w may take (Wrap): $COLUMNS when it is
// a positive number (as shells and `ls` use it), else the terminal's width
// when w is a terminal, else DefaultWidth (a pipe or a file, e.g. cron's
// mail); never less than MinWidth.
func Width(w io.Writer) int {
	if c, err := strconv.Atoi(strings.TrimSpace(os.Getenv("COLUMNS"))); err == nil && c > 0 {
		return max(c, MinWidth)
	}
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		if c, _, err := term.GetSize(int(f.Fd())); err == nil && c > 0 {
			return max(c, MinWidth)
		}
	}
	return DefaultWidth
}

// CutWidth is the width a default (-o text) table is cut to on w: Width
// when w is a terminal, where a wrapped row would break the table; 0 (rows
// whole) otherwise, as kubectl never cuts: a pipe to grep or awk, a file or
// cron's mail must keep every cell, whatever $COLUMNS says.
func CutWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		return Width(w)
	}
	return 0
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Table is a table with kubectl's spacing (columns two spaces apart) that
// never wraps on a terminal: Flush cuts each line to the terminal's width
// (CutWidth), ending it with "…", so that a long cell (a list of problems)
// stays on its row; on a pipe or a file, and with -o wide (Table made with
// wide), every cell is whole. Commands put the long columns in wide only,
// so that the default fits 100 columns.
type Table struct {
	*tabwriter.Writer
	out   io.Writer
	buf   bytes.Buffer
	wide  bool
	width int // 0: no limit
}

// NewTable returns a Table that writes to out on Flush: cut to
// CutWidth(out) unless wide.
func NewTable(out io.Writer, wide bool) *Table {
	t := &Table{out: out, wide: wide}
	if !wide {
		t.width = CutWidth(out)
	}
	t.Writer = tabwriter.NewWriter(&t.buf, 0, 4, 2, ' ', 0)
	return t
}

// Flush aligns the rows written so far and writes them to the output, each
// line of a default table without its trailing spaces and cut to the
// width.
func (t *Table) Flush() error {
	if err := t.Writer.Flush(); err != nil {
		return err
	}
	defer t.buf.Reset()
	if t.wide {
		_, err := t.buf.WriteTo(t.out)
		return err
	}
	var b strings.Builder
	for line := range strings.Lines(t.buf.String()) {
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		b.WriteString(Cut(strings.TrimRight(line, " "), t.width) + "\n")
	}
	_, err := io.WriteString(t.out, b.String())
	return err
}

// Cut returns s if it fits in width columns (one per rune), else its
// first width-1 runes and "…".
func Cut(s string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

// Wrap breaks s into lines of at most width columns at spaces, each but the
// first starting with indent; a word longer than a line stays whole.
func Wrap(s string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(s) {
		n := utf8.RuneCountInString(w)
		switch {
		case i == 0:
		case line+1+n > width:
			b.WriteString("\n" + indent)
			line = utf8.RuneCountInString(indent)
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += n
	}
	return b.String()
}
