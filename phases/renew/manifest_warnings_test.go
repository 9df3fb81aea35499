package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/output"
)

// TestManifestFolderWarningsFollowTheOutput: a file of the manifest folder
// that is not a Pod (a README, a half-written copy) is skipped with a
// warning. The warning went straight to stderr: with --quiet, cron mailed
// it on every usual day (docs/cron.md: --quiet prints errors and the
// restarts still owed only), and -o json's warnings[] did not list it. It
// now goes where every other warning of the run goes.
func TestManifestFolderWarningsFollowTheOutput(t *testing.T) {
	n, o := owedNode(t)
	readme := n.Path("manifests/README")
	if err := os.WriteFile(readme, []byte("not a pod\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o.Threshold, o.IfExpiresWithin = true, 720*time.Hour
	for _, tc := range []struct {
		name   string
		quiet  bool
		format string
	}{{"text", false, ""}, {"quiet", true, ""}, {"json", false, "json"}} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			o.Out, o.ErrOut, o.Quiet, o.Format = &out, &errOut, tc.quiet, output.Format{Name: tc.format}
			err := Run(context.Background(), o)
			if code := exitcode.Of(err); code != exitcode.NothingToDo {
				t.Fatalf("exit %d (%v), want 2\n%s%s", code, err, out.String(), errOut.String())
			}
			warned := strings.Contains(errOut.String(), "[warning] skipped "+readme)
			switch {
			case tc.quiet && errOut.Len() > 0:
				t.Errorf("--quiet printed on a day with nothing to do:\n%s", errOut.String())
			case !tc.quiet && !warned:
				t.Errorf("no warning of %s:\n%s", readme, errOut.String())
			}
			if tc.format == "json" {
				var s Summary
				if err := json.Unmarshal(out.Bytes(), &s); err != nil {
					t.Fatalf("%v\n%s", err, out.String())
				}
				if !strings.Contains(strings.Join(s.Warnings, "\n"), "skipped "+readme) {
					t.Errorf("warnings[] %q does not list %s", s.Warnings, readme)
				}
			}
		})
	}
}
