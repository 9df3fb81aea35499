package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestRestoreFailedStillPrintsSummary: `restore NAME -o json|yaml|jsonpath`
// printed nothing when the restore was refused (no such backup, another
// certctl holding the lock, a flag that needs --restart-control-plane),
// and RestoreSummary had no exitCode or error, where renew's and certs
// import's summaries have both and are printed also after an error: a
// script reading the summary got an empty stdout. It now prints one
// summary with exitCode 1 and the error; text prints none.
func TestRestoreFailedStillPrintsSummary(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	path, err := lock.Beside(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		backup string
		given  string // a flag given without --restart-control-plane
		locked bool
		want   string
	}{
		{"no such backup", "nosuch", "", false, "no backup"},
		{"no such backup, dry run", "nosuch", "", false, "no backup"},
		{"lock held", "latest", "", true, "holds the lock"},
		{"--manifest-dir alone", "latest", "manifest-dir", false, "--manifest-dir does nothing without --restart-control-plane"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.locked {
				held, err := lock.AcquireWait(context.Background(), path, lock.Wait{})
				if err != nil {
					t.Fatal(err)
				}
				defer held.Release()
			}
			for _, format := range []string{"json", "jsonpath={.kind} {.exitCode}", "text"} {
				var out, errOut bytes.Buffer
				r := RestoreRequest{
					Options: Options{KubeconfigDir: n.Dir, DryRun: strings.HasSuffix(tc.name, "dry run"), LockTimeout: 0,
						Restart: Restart{Timeout: time.Minute}, Out: &out, ErrOut: &errOut},
					Output:  format,
					Given:   func(f string) bool { return f == tc.given },
					CertDir: func() (string, error) { return n.CertDir(), nil },
				}
				err := r.Main(context.Background(), []string{tc.backup})
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("-o %s: error %v, want it to say %q", format, err, tc.want)
				}
				switch {
				case format == "json":
					var s RestoreSummary
					if jerr := json.Unmarshal(out.Bytes(), &s); jerr != nil || s.Kind != "RestoreSummary" || s.ExitCode != 1 || !strings.Contains(s.Error, tc.want) || s.Restored == nil {
						t.Errorf("-o json: %v, %+v\n%s", jerr, s, out.String())
					}
				case format == "text":
					if strings.Contains(out.String(), "RestoreSummary") {
						t.Errorf("text prints the summary:\n%s", out.String())
					}
				default:
					if out.String() != "RestoreSummary 1\n" {
						t.Errorf("-o %s: %q", format, out.String())
					}
				}
			}
		})
	}
}
