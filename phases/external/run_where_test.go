package external

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/external/reqfile"
)

// TestRunImportRefusedSaysWhereTheReasonsAre: with -o json or yaml the
// refusals are in the output's refused field, and -o jsonpath prints no
// list, so the error no longer says they are "listed above"; the text
// formats still do.
func TestRunImportRefusedSaysWhereTheReasonsAre(t *testing.T) {
	for format, want := range map[string]string{
		"text":                 "listed above with the reason",
		"wide":                 "listed above with the reason",
		"json":                 "in the refused field of the output",
		"yaml":                 "in the refused field of the output",
		"jsonpath={.exitCode}": "`certctl certs import --dry-run` (without -o)",
	} {
		n := newExtNode(t)
		n.writeCSRs(t, "apiserver", "front-proxy-client")
		n.signAll(t)
		if err := os.WriteFile(reqfile.Path(n.csrDir, "apiserver"), read(t, reqfile.Path(n.csrDir, "front-proxy-client")), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := output.Parse(format)
		if err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		err = RunImport(context.Background(), n.importOptions(), f, 0, &out, &errOut)
		treetest.ErrMentions(t, err, "1 certificate(s) refused", want)
		if format != "text" && format != "wide" && strings.Contains(err.Error(), "listed above") {
			t.Errorf("-o %s: %v", format, err)
		}
	}
}
