package renew

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/renewal"
)

// TestRestoreSummaryWarnings: restore's [warning] lines (files that
// disagree with the CA files beside them) were on stderr only; with -o
// json a cron job saw none of them. The summary carries them, [] when none.
func TestRestoreSummaryWarnings(t *testing.T) {
	f, err := output.Parse("json")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]string{{}, {"admin.conf trusts one CA of two"}} {
		var out bytes.Buffer
		if err := printRestore(&out, f, "/backups/x", &renewal.RestoreResult{Warnings: want}, false, Restart{}, nil); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Warnings *[]string `json:"warnings"`
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if got.Warnings == nil || !slices.Equal(*got.Warnings, want) {
			t.Errorf("warnings %v, want %q:\n%s", got.Warnings, want, out.String())
		}
	}
}
