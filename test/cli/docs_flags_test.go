package cli

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsCommandFlagsExist: every certctl command line of README.md and
// docs/*.md, in a block or inline (`certctl ...`), including those certctl
// prints for the reader to paste, names only flags its command has (as
// its --help lists them), so that none fails with "unknown flag" when
// copied. The tests of each document run the commands themselves where
// they can; this one also reaches the ones that need a cluster.
func TestDocsCommandFlagsExist(t *testing.T) {
	bin := certctlBin(t)
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, filepath.Join("..", "..", "README.md"))
	inline := regexp.MustCompile("`(certctl [^`]+)`")
	lineStart := regexp.MustCompile(`(?m)^\s*(?:\S*\$ )?(?:sudo )?(certctl [^#\n]*)`)
	flag := regexp.MustCompile(`^--?[a-zA-Z][-a-zA-Z0-9]*`)
	helps := map[string]string{}
	checked := 0
	for _, doc := range docs {
		text := string(mustRead(t, doc))
		var lines []string
		for _, m := range inline.FindAllStringSubmatch(strings.ReplaceAll(text, "\n", " "), -1) {
			lines = append(lines, m[1])
		}
		for _, m := range lineStart.FindAllStringSubmatch(text, -1) {
			lines = append(lines, m[1])
		}
		for _, line := range lines {
			// One command: up to a pipe, a redirection or the next command.
			line = regexp.MustCompile(`\\\||\s[|>;&]|\)|\$\(`).Split(line, 2)[0]
			var words, flags []string
			for _, w := range strings.Fields(strings.TrimPrefix(line, "certctl ")) {
				if f := flag.FindString(w); f != "" {
					flags = append(flags, f)
				} else if len(flags) == 0 && regexp.MustCompile(`^[a-z][-a-z0-9.]*$`).MatchString(w) {
					words = append(words, w)
				}
			}
			if len(flags) == 0 {
				continue
			}
			key := strings.Join(words, " ")
			help, ok := helps[key]
			if !ok {
				out, err := exec.Command(bin, append(words, "--help")...).CombinedOutput()
				if err != nil {
					t.Errorf("%s: %q: certctl %s --help: %v\n%s", filepath.Base(doc), line, key, err, out)
					continue
				}
				help, helps[key] = string(out), string(out)
			}
			for _, f := range flags {
				if f == "--help" || f == "-h" {
					continue
				}
				checked++
				if !regexp.MustCompile(`(?m)^\s+(-[a-zA-Z], )?` + regexp.QuoteMeta(f) + `\b|^\s+` + regexp.QuoteMeta(f) + `, --`).MatchString(help) {
					t.Errorf("docs %s: %q: certctl %s has no flag %s", filepath.Base(doc), line, key, f)
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("checked %d flags of the documents' certctl commands: the parsing has broken", checked)
	}
}
