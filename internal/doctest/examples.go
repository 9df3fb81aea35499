package doctest

import (
	"regexp"
	"strings"
)

// Example is one command line of a command's examples (cobra's Example,
// as --help prints it): "certctl ..." with a continuation "\" joined and
// "sudo " taken off, and the comment above it.
type Example struct {
	Comment, Line string
}

var spaces = regexp.MustCompile(`\s+`)

// Examples are the command lines of the "Examples:" section of a
// command's --help output, in order. A line that does not run certctl
// (none today) is left out.
func Examples(help string) []Example {
	_, text, ok := strings.Cut(help, "\nExamples:\n")
	if !ok {
		return nil
	}
	var out []Example
	comment, line := "", ""
	for _, l := range strings.Split(text, "\n") {
		if l != "" && !strings.HasPrefix(l, " ") {
			break // "Available Commands:", "Flags:"
		}
		l = strings.TrimSpace(l)
		if c, ok := strings.CutPrefix(l, "# "); ok && line == "" {
			comment = c
			continue
		}
		if l == "" && line == "" {
			comment = ""
			continue
		}
		if cont, ok := strings.CutSuffix(l, `\`); ok {
			line += cont + " "
			continue
		}
		line = strings.TrimSpace(strings.ReplaceAll(spaces.ReplaceAllString(line+l, " "), "sudo certctl ", "certctl "))
		if strings.Contains(line, "certctl ") {
			out = append(out, Example{Comment: comment, Line: line})
		}
		line = ""
	}
	return out
}
