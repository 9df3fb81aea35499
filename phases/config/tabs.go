package config

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
)

// tabIndentError is a document that YAML could not read because a line is
// indented with a tab, which YAML forbids (YAML 1.2 §6.1); editors insert
// them, and the parser's own words ("found character that cannot start any
// token", a line counted from the document's start) do not say so.
type tabIndentError struct {
	line int   // in the file
	err  error // the parser's
}

func (e *tabIndentError) Error() string {
	return fmt.Sprintf("line %d is indented with a tab, which YAML forbids: indent it with spaces", e.line)
}

func (e *tabIndentError) Unwrap() error { return e.err }

// yamlErrorLine is the line the YAML parser names, counted from the
// start of the document it parsed.
var yamlErrorLine = regexp.MustCompile(`\bline (\d+):`)

// tabIndented returns err as a tabIndentError when the line it names in
// doc, which starts at line docLine of the file, has a tab in its
// indentation (before the first character other than a space, a tab or a
// sequence's "-"), and err otherwise.
func tabIndented(err error, doc []byte, docLine int) error {
	m := yamlErrorLine.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	n, convErr := strconv.Atoi(m[1])
	lines := bytes.Split(doc, []byte("\n"))
	if convErr != nil || n < 1 || n > len(lines) {
		return err
	}
	line := lines[n-1]
	indent := line[:len(line)-len(bytes.TrimLeft(line, " \t-"))]
	if !bytes.Contains(indent, []byte("\t")) {
		return err
	}
	return &tabIndentError{line: docLine + n - 1, err: err}
}
