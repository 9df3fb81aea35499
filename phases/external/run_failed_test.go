package external

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/output"
)

// TestRunImportFailedStillPrintsSummary: with -o json, yaml or jsonpath an
// import that fails before it has anything to report (no --csr-dir, a CSR
// folder that does not exist, another certctl holding the lock) still
// prints its one ImportSummary, with exitCode 1 and the error, as
// docs/external-ca.md promises ("also after a refusal or an error"): a
// script that reads .exitCode got an empty stdout. Text prints no summary.
func TestRunImportFailedStillPrintsSummary(t *testing.T) {
	n := newExtNode(t)
	path, err := lock.Beside(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(o *ImportOptions)
		locked bool
		want   string
	}{
		{"no --csr-dir", func(o *ImportOptions) { o.CSRDir = "" }, false, "--csr-dir is required"},
		{"no CSR folder", func(o *ImportOptions) { o.CSRDir = filepath.Join(t.TempDir(), "nope") }, false, "read the CSR folder"},
		{"no CSR folder, dry run", func(o *ImportOptions) { o.CSRDir, o.DryRun = filepath.Join(t.TempDir(), "nope"), true }, false, "read the CSR folder"},
		{"lock held", func(*ImportOptions) {}, true, "holds the lock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.locked {
				held, err := lock.AcquireWait(context.Background(), path, lock.Wait{})
				if err != nil {
					t.Fatal(err)
				}
				defer held.Release()
			}
			o := n.importOptions()
			tc.change(&o)
			for _, format := range []string{"json", "yaml", "jsonpath={.kind} {.exitCode}", "text"} {
				f, err := output.Parse(format)
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				err = RunImport(context.Background(), o, f, 0, &out, io.Discard)
				if err == nil {
					t.Fatalf("-o %s: no error", format)
				}
				switch format {
				case "json":
					var s ImportSummary
					if jerr := json.Unmarshal(out.Bytes(), &s); jerr != nil || s.Kind != importSummaryKind || s.ExitCode != 1 || !bytes.Contains([]byte(s.Error), []byte(tc.want)) || s.DryRun != o.DryRun {
						t.Errorf("-o json: %v, %+v\n%s", jerr, s, out.String())
					}
				case "yaml":
					if !bytes.Contains(out.Bytes(), []byte("kind: ImportSummary")) || !bytes.Contains(out.Bytes(), []byte("exitCode: 1")) {
						t.Errorf("-o yaml:\n%s", out.String())
					}
				case "text":
					if bytes.Contains(out.Bytes(), []byte("ImportSummary")) {
						t.Errorf("text prints the summary:\n%s", out.String())
					}
				default:
					if out.String() != "ImportSummary 1\n" {
						t.Errorf("-o %s: %q", format, out.String())
					}
				}
			}
		})
	}
}
