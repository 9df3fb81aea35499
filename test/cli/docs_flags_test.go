package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/doctest"
)

// TestDocsCommandFlagsExist: every certctl command line of README.md and
// docs/*.md, in a block or inline (`certctl ...`), in a $(...), run by
// its path from cron or systemd, with its backslash-continued lines
// (doctest.CommandLines), including those certctl prints for the reader
// to paste, names only flags its command has (as
// its --help lists them) and, where the command has a list of names, only
// arguments in it, so that none fails with "unknown flag" when copied.
// The tests of each document run the commands themselves where they can;
// this one also reaches the ones that need a cluster. TestHelpExamples
// does the same for the commands' --help examples.
func TestDocsCommandFlagsExist(t *testing.T) {
	c := &doctest.Checker{Bin: certctlBin(t)}
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, filepath.Join("..", "..", "README.md"))
	// Lines a document shows being refused, with what it says of them.
	refused := map[string]string{
		"certctl renew ca": "renew.md: CAs are not renewed (`certctl renew ca` says so)",
	}
	checked := 0
	for _, doc := range docs {
		for _, line := range doctest.CommandLines(string(mustRead(t, doc))) {
			if refused[line] != "" {
				continue
			}
			problems, n, err := c.Check(line)
			if err != nil {
				t.Errorf("docs %s: %q: %v", filepath.Base(doc), line, err)
			}
			checked += n
			for _, p := range problems {
				t.Errorf("docs %s: %q: %s", filepath.Base(doc), line, p)
			}
		}
	}
	if checked < 100 {
		t.Errorf("checked %d flags and arguments of the documents' certctl commands: the parsing has broken", checked)
	}
}

// TestCommandCheckerRefuses: doctest.Checker, which TestDocsCommandFlagsExist
// and TestHelpExamples rely on, finds a flag a command lacks and an
// argument outside its list, and passes what is right.
func TestCommandCheckerRefuses(t *testing.T) {
	c := &doctest.Checker{Bin: certctlBin(t)}
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"certctl renew all --dry-run", nil},
		{"certctl certs renew apiserver admin.conf --use-api", nil},
		{"certctl ca rotate etcd-ca --all-stages", nil},
		{"certctl approve csr-8vq2x --config kubeadm.yaml", nil}, // no list: any CSR name
		{"certctl check-expiration --warn-in 336h", []string{"certctl check-expiration has no flag --warn-in"}},
		{"certctl renew apiservr admin.conf", []string{"certctl renew takes no argument apiservr"}},
		{"sudo certctl ca rotate etcd --all-stages", []string{"certctl ca rotate takes no argument etcd"}},
		{"certctl init-phase kubeconfig admn -o json", []string{"certctl init-phase kubeconfig has no flag -o", "certctl init-phase kubeconfig takes no argument admn"}},
	} {
		_, line, _ := strings.Cut(tc.line, "certctl ")
		got, _, err := c.Check("certctl " + line)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: problems %q, want %q", tc.line, got, tc.want)
		}
	}
}
