package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/doctest"
)

// docConsole returns the console block of docs/DOC that contains marker,
// with the document's node (/etc/kubernetes, node cp-1) replaced by the
// test's: folder dir (a harness cluster's KubeconfigDir, say) and node, the
// name certctl gives the node it runs on.
func docConsole(t *testing.T, doc, marker, dir, node string) []string {
	t.Helper()
	block := docBlock(t, doc, "console", marker)
	block = strings.ReplaceAll(block, "/etc/kubernetes", dir)
	block = docNodeName.ReplaceAllString(block, "${1}"+node+"${2}")
	return strings.Split(strings.TrimSpace(block), "\n")
}

// docNodeName is the document's node name, cp-1, where certctl prints a
// node's name: in a CSR's name and after --all-from-node.
var docNodeName = regexp.MustCompile(`(?m)(certctl-|--all-from-node )cp-1([- ]|$)`)

// docAPIVariable are the parts of what certctl prints talking to an API
// server or restarting the control plane that a document cannot show as
// they will be: a CSR's random suffix, the API server's address, how long a
// CSR took to be issued or a component to restart, a restart's time to the
// nanosecond, the components' process IDs and addresses.
var docAPIVariable = []doctest.Variable{
	{Re: regexp.MustCompile(`\b(certctl-\S+)-[0-9a-f]{12}\b`), With: "${1}-XXXXXXXXXXXX"},
	{Re: regexp.MustCompile(`https://[^\s/]+:\d+`), With: "https://HOST:PORT"},
	{Re: regexp.MustCompile(`\(after [0-9.]+(µs|ms|s)\)`), With: "(after D)"},
	{Re: regexp.MustCompile(`, after [0-9.]+(µs|ms|s)$`), With: ", after D"},
	{Re: regexp.MustCompile(`restartedAt=\S+ in `), With: "restartedAt=T in "},
	{Re: regexp.MustCompile(`\(pid \d+, was \d+\)`), With: "(pid N, was N)"},
	{Re: regexp.MustCompile(` port \S+:\d+ serial `), With: " port HOST:PORT serial "},
	// A serial's leading zero bytes are not printed: 14 hex digits as
	// often as 1 in 256 times (the default rule holds 16).
	{Re: regexp.MustCompile(`\bserial [0-9A-FX]+\b`), With: "serial N"},
}

// docAddressVariable is a table's column of addresses, which the document
// cannot show as they will be, nor the column's width with them.
var docAddressVariable = []doctest.Variable{
	{Re: regexp.MustCompile(`\b\d+\.\d+\.\d+\.\d+:\d+ +`), With: "ADDR "},
	{Re: regexp.MustCompile(`\bADDRESS +`), With: "ADDRESS "},
}

// docBlock returns the fenced block of docs/DOC whose info string is info
// and whose text contains marker.
func docBlock(t *testing.T, doc, info, marker string) string {
	t.Helper()
	block, err := doctest.Block(filepath.Join("..", "..", "docs"), doc, info, marker)
	if err != nil {
		t.Fatal(err)
	}
	return block
}

// runDocShell runs a document's one-line shell block (sudo dropped) with
// bash, as a user pasting it would, with extra appended to its arguments
// and the certctl under test first in PATH, and returns its output.
func runDocShell(t *testing.T, ctx context.Context, block string, extra []string) string {
	t.Helper()
	line := strings.TrimPrefix(strings.TrimSpace(block), "sudo ")
	if strings.Contains(line, "\n") || !strings.HasPrefix(line, "certctl ") {
		t.Fatalf("the document's block %q is not one certctl command", block)
	}
	bin := signerCertctl(t)
	if filepath.Base(bin) != "certctl" {
		t.Fatalf("the certctl under test is %s: the document runs `certctl`", bin)
	}
	cmd := exec.CommandContext(ctx, "bash", append([]string{"-c", line + ` "$@"`, "bash"}, extra...)...)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	t.Logf("$ %s %s\n%s", line, strings.Join(extra, " "), out)
	if err != nil {
		t.Errorf("%s: %v", line, err)
	}
	return string(out)
}

// docCommand returns the certctl arguments of console line, the first of a
// console block, with extra added.
func docCommand(t *testing.T, line string, extra ...string) []string {
	t.Helper()
	args, ok := doctest.CommandLine(line)
	if !ok {
		t.Fatalf("the console's first line %q is not a certctl command", line)
	}
	words, err := doctest.Words(args)
	if err != nil {
		t.Fatalf("the console's first line: %v", err)
	}
	return append(words, extra...)
}

// checkDocConsole fails the test when what a command printed (its command
// line first, then its output) is not what the document's console shows,
// docAPIVariable, docLogVariable and extra aside.
func checkDocConsole(t *testing.T, doc string, want, got []string, extra ...doctest.Variable) {
	t.Helper()
	if !doctest.LinesMatch(want, got, append(append(docAPIVariable, docLogVariable...), extra...)...) {
		t.Errorf("docs/%s's example prints\n%s\nwant\n%s", doc, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// exitLines are a console's "$ echo $?" and the exit status.
func exitLines(code int) []string { return []string{"$ echo $?", strconv.Itoa(code)} }

// waitOutput waits until r has printed a line containing s.
func waitOutput(t *testing.T, ctx context.Context, r *renewRun, s string) {
	t.Helper()
	for !strings.Contains(r.output(), s) {
		select {
		case <-r.done:
			r.wait(t)
			t.Fatalf("certctl exited before it printed %q", s)
		case <-ctx.Done():
			t.Fatalf("wait for certctl to print %q: %v", s, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// hostNode is the name certctl gives this machine as a node without a
// configuration file (--config's nodeRegistration.name), as kubeadm
// does: its host name, in lower case.
func hostNode(t *testing.T) string {
	t.Helper()
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return strings.ToLower(h)
}
