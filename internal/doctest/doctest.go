// Package doctest reads the examples of certctl's docs/ for the tests that
// run them (test/cli without an API server, test/e2e with one): the fenced
// blocks, the command lines of a console block, and the comparison of what
// certctl printed with what the document shows.
package doctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// Block returns the first fenced block of DOCS/DOC whose info string is
// info ("console", "ini certctl-renew.service") and whose text contains
// marker.
func Block(docs, doc, info, marker string) (string, error) {
	data, err := os.ReadFile(filepath.Join(docs, doc))
	if err != nil {
		return "", err
	}
	for _, m := range regexp.MustCompile("(?s)\n```"+regexp.QuoteMeta(info)+"\n(.*?)```\n").FindAllStringSubmatch(string(data), -1) {
		if strings.Contains(m[1], marker) {
			return m[1], nil
		}
	}
	return "", fmt.Errorf("docs/%s has no block ```%s containing %q", doc, info, marker)
}

// RunConsole runs the "$ sudo certctl ..." and "$ certctl ..." lines of a
// console block with bin, /etc/kubernetes replaced by dir and extra added
// to each, and returns the lines the document shows and the lines certctl
// printed (stdout and stderr, but for the [config] line that says where the
// settings came from, and with the extra flags taken out of the commands it
// prints), each command line followed by its output.
func RunConsole(bin, block, dir string, extra ...string) (want, got []string) {
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		line = strings.ReplaceAll(line, "/etc/kubernetes", dir)
		want = append(want, line)
		cmdline, ok := CommandLine(line)
		if !ok {
			continue
		}
		got = append(got, line)
		args, err := Words(cmdline)
		if err != nil {
			got = append(got, "doctest: "+err.Error())
			continue
		}
		out, _ := exec.Command(bin, append(args, extra...)...).CombinedOutput()
		got = append(got, OutputLines(string(out), extra...)...)
	}
	return want, got
}

// Words splits a console line's arguments as a POSIX shell does, for
// the quoting a document's example may use: blanks separate words; single
// quotes keep everything; double quotes keep all but a backslash before
// one of $ ` " \ ; a backslash outside quotes keeps the next character.
// An unterminated quote or a trailing backslash is an error. Expansions
// ($VAR, $(...)) are not made: a line that needs them is not run.
func Words(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", line)
			}
			w.WriteString(line[i+1 : i+1+end])
			i, inWord = i+1+end, true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("$`\"\\", line[i+1]) >= 0 {
					i++
				}
				w.WriteByte(line[i])
			}
			if i == len(line) {
				return nil, fmt.Errorf("unterminated \" in %q", line)
			}
			inWord = true
		case c == '\\':
			if i+1 == len(line) {
				return nil, fmt.Errorf("trailing \\ in %q", line)
			}
			i++
			w.WriteByte(line[i])
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// CommandLine returns the arguments of a console line "$ sudo certctl
// ARGS" or "$ certctl ARGS", without a comment " # ..." after them, and
// false for any other line.
func CommandLine(line string) (string, bool) {
	args, ok := strings.CutPrefix(strings.Replace(line, "$ sudo ", "$ ", 1), "$ certctl ")
	args, _, _ = strings.Cut(args, " #")
	return strings.TrimSpace(args), ok
}

// OutputLines are certctl's output out as a document shows it: its lines,
// but for the [config] line that says where the settings came from, and
// with the flags extra (pairs: flag, value) that a test added taken out of
// the commands certctl prints, which the document's commands do not need.
func OutputLines(out string, extra ...string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "[config] ") {
			continue
		}
		for i := 0; i+1 < len(extra); i += 2 {
			l = strings.ReplaceAll(l, " "+extra[i]+" "+extra[i+1], "")
		}
		lines = append(lines, l)
	}
	return lines
}

// Variable is a part of certctl's output a document cannot show as it will
// be (a CSR's random suffix, the API server's address): every match is
// replaced by With (regexp.ReplaceAllString's template) on both sides.
type Variable struct {
	Re   *regexp.Regexp
	With string
}

// dateVariable are the times, dates and backup folders' names (a
// renewal's, signer enable's) in certctl's output. Each digit of them is
// made 9 on both sides, so that a table's columns still have to line up as
// the document shows.
var dateVariable = []*regexp.Regexp{
	regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?Z?`),
	regexp.MustCompile(`\d{8}T\d{6}Z`),
	regexp.MustCompile(`certctl-backup-manifests-\d{4}(-\d\d){5}`),
}

var (
	digit = regexp.MustCompile(`\d`)
	// A serial's leading zero bytes are not printed: about one in 256
	// has 14 hex digits, not 16.
	serial = Variable{regexp.MustCompile(`serial [0-9A-F]{1,16}\b`), "serial XXXXXXXXXXXXXXXX"}
)

// Normalize is line l with its dates, times and serials made alike, and
// the matches of vars replaced.
func Normalize(l string, vars ...Variable) string {
	for _, re := range dateVariable {
		l = re.ReplaceAllStringFunc(l, func(s string) string { return digit.ReplaceAllString(s, "9") })
	}
	for _, v := range append([]Variable{serial}, vars...) {
		l = v.Re.ReplaceAllString(l, v.With)
	}
	return l
}

// LinesMatch says whether got is what want shows: line by line after
// Normalize, where a line "..." in want stands for any number of lines,
// and ", ..., " in a line of want for the middle items of a list
// ("apiserver, ..., scheduler.conf").
func LinesMatch(want, got []string, vars ...Variable) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if strings.TrimSpace(want[0]) == "..." {
		for i := 0; i <= len(got); i++ {
			if LinesMatch(want[1:], got[i:], vars...) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && lineMatches(Normalize(want[0], vars...), Normalize(got[0], vars...)) && LinesMatch(want[1:], got[1:], vars...)
}

// lineMatches says whether got is want, where ", ..., " in want stands
// for ", " and one or more items separated by ", ", then ", ".
func lineMatches(want, got string) bool {
	parts := strings.Split(want, elided)
	if len(parts) == 1 {
		return want == got
	}
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `, .+, `) + `$`).MatchString(got)
}

const elided = ", ..., "
