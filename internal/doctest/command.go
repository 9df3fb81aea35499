package doctest

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

var (
	inline    = regexp.MustCompile("`(?:sudo )?(certctl [^`]+)`")
	lineStart = regexp.MustCompile(`(?m)^\s*(?:\S*\$ )?(?:sudo )?(certctl [^#\n]*)`)
	// A command inside a line: "KEY=$(certctl ...)", or by its path, as
	// cron and systemd run it ("root /usr/local/bin/certctl ...",
	// "ExecStart=/usr/local/bin/certctl ...").
	substituted = regexp.MustCompile(`\$\((?:sudo )?(certctl [^)\n]*)`)
	byPath      = regexp.MustCompile(`(?m)(?:^|[\s=(])(?:sudo )?(?:/[\w.-]+)+/(certctl [a-z][^#\n` + "`" + `]*)`)
	// A line continued with a backslash: its flags are the command's too.
	continued = regexp.MustCompile(`\s*\\\n\s*`)
	// One command ends at a pipe, a redirection or the next command.
	commandEnd = regexp.MustCompile(`\\\||\s[|>;&]|\)|\$\(`)
	flagName   = regexp.MustCompile(`^--?[a-zA-Z][-a-zA-Z0-9]*`)
	word       = regexp.MustCompile(`^[a-z][-a-z0-9.]*$`)
)

// CommandLines are the certctl command lines of a document's text, in a
// block or inline (`certctl ...`, `sudo certctl ...`), each from
// "certctl ": at the start of a line, in a command substitution, or run by
// its path (a cron or systemd line), with the lines a backslash continues
// joined to it.
func CommandLines(text string) []string {
	var lines []string
	for _, m := range inline.FindAllStringSubmatch(strings.ReplaceAll(text, "\n", " "), -1) {
		lines = append(lines, strings.TrimSpace(m[1]))
	}
	text = continued.ReplaceAllString(text, " ")
	for _, re := range []*regexp.Regexp{lineStart, substituted, byPath} {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			lines = append(lines, strings.TrimSpace(m[1]))
		}
	}
	return lines
}

// SplitCommand splits a line "certctl WORDS... FLAGS..." (up to a pipe,
// a redirection or the next command) into the plain words before its
// first flag (the command path, then its arguments) and the flags' names.
func SplitCommand(line string) (words, flags []string) {
	line = commandEnd.Split(line, 2)[0]
	for _, w := range strings.Fields(strings.TrimPrefix(line, "certctl ")) {
		if f := flagName.FindString(w); f != "" {
			flags = append(flags, f)
		} else if len(flags) == 0 && word.MatchString(w) {
			words = append(words, w)
		}
	}
	return words, flags
}

// Checker checks certctl command lines against bin's --help: the flags
// each names exist for its command, and its arguments are among the names
// the command completes (cobra's ValidArgs) when it has such a list.
type Checker struct {
	Bin   string
	helps map[string]string
}

// Help is `certctl WORDS --help`, cached.
func (c *Checker) Help(words []string) (string, error) {
	key := strings.Join(words, " ")
	if h, ok := c.helps[key]; ok {
		return h, nil
	}
	out, err := exec.Command(c.Bin, append(append([]string{}, words...), "--help")...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("certctl %s --help: %w\n%s", key, err, out)
	}
	if c.helps == nil {
		c.helps = map[string]string{}
	}
	c.helps[key] = string(out)
	return string(out), nil
}

// Path splits words into the command path (as the command's usage line
// shows it: "ca rotate") and the arguments after it.
func (c *Checker) Path(words []string) (path, args []string, err error) {
	help, err := c.Help(words)
	if err != nil {
		return nil, nil, err
	}
	_, usage, _ := strings.Cut(help, "Usage:\n  ")
	usage, _, _ = strings.Cut(usage, "\n")
	for n := len(words); n >= 0; n-- {
		p := strings.Join(append([]string{"certctl"}, words[:n]...), " ")
		if usage == p || strings.HasPrefix(usage, p+" ") {
			return words[:n], words[n:], nil
		}
	}
	return nil, nil, fmt.Errorf("certctl %s --help: no usage line", strings.Join(words, " "))
}

// Check returns what is wrong with line for a user who copies it (each
// problem a sentence) and how many flags and arguments it checked. A line
// whose first word is no command is prose ("certctl replaces ..."): it
// checks nothing.
func (c *Checker) Check(line string) (problems []string, checked int, err error) {
	words, flags := SplitCommand(line)
	path, args, err := c.Path(words)
	if err != nil {
		return nil, 0, err
	}
	if len(path) == 0 && len(args) > 0 {
		return nil, 0, nil // prose: "certctl replaces everything..."
	}
	help, err := c.Help(path)
	if err != nil {
		return nil, 0, err
	}
	cmd := strings.Join(path, " ")
	for _, f := range flags {
		if f == "--help" || f == "-h" {
			continue
		}
		checked++
		if !regexp.MustCompile(`(?m)^\s+(-[a-zA-Z], )?` + regexp.QuoteMeta(f) + `\b|^\s+` + regexp.QuoteMeta(f) + `, --`).MatchString(help) {
			problems = append(problems, fmt.Sprintf("certctl %s has no flag %s", cmd, f))
		}
	}
	if len(args) == 0 {
		return problems, checked, nil
	}
	valid, err := c.completions(path)
	if err != nil {
		return nil, 0, err
	}
	for _, a := range args {
		checked++
		if len(valid) > 0 && !valid[a] {
			problems = append(problems, fmt.Sprintf("certctl %s takes no argument %s", cmd, a))
		}
	}
	return problems, checked, nil
}

// completions are the names `certctl PATH <TAB>` offers, none when the
// command has no list (a CSR's name, a file).
func (c *Checker) completions(path []string) (map[string]bool, error) {
	out, err := exec.Command(c.Bin, append(append([]string{"__complete"}, path...), "")...).Output()
	if err != nil {
		return nil, fmt.Errorf("certctl __complete %s: %w", strings.Join(path, " "), err)
	}
	names := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.HasPrefix(l, ":") && !strings.HasPrefix(l, "-") {
			name, _, _ := strings.Cut(l, "\t")
			names[name] = true
		}
	}
	return names, nil
}
