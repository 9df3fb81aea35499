package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/renewal/apirenew"
)

// TestSummaryPrunedPendingKeys: the pending keys of --use-api that a run
// removes first because their certificate is installed (prunePending)
// were said on a line only, on stderr with -o json: the summary had no
// field for them. It now lists each (prunedPendingKeys, [] when none),
// and a dry run fills it with those it would remove.
func TestSummaryPrunedPendingKeys(t *testing.T) {
	for _, dry := range []bool{false, true} {
		n := pkitest.NewNode(t, nil)
		dir, err := apirenew.PendingDir(n.CertDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		key, err := os.ReadFile(filepath.Join(n.CertDir(), "apiserver.key"))
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "apiserver.key")
		if err := os.WriteFile(file, key, 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, IfExpiresWithin: 720 * time.Hour, Threshold: true,
			Now: func() time.Time { return pkitest.Made.Add(time.Hour) }, Out: &out, ErrOut: &errOut, DryRun: dry}
		if !dry {
			o.Format = output.Format{Name: "json"}
		}
		o.defaults()
		r := &run{o: o, summary: newSummary(o.Now(), o.IfExpiresWithin)}
		_ = r.run(context.Background()) // nothing due: exit status 2
		want := []prunedPendingKey{{Name: "apiserver", File: file}}
		if got := r.summary.PrunedPendingKeys; len(got) != 1 || got[0] != want[0] {
			t.Errorf("dry run %v: prunedPendingKeys = %+v, want %+v\n%s%s", dry, got, want, out.String(), errOut.String())
		}
		if _, err := os.Stat(file); dry == os.IsNotExist(err) {
			t.Errorf("dry run %v: the pending key exists: %v", dry, err == nil)
		}
	}
	// In the JSON: [] when none.
	var b bytes.Buffer
	if err := (output.Format{Name: "json"}).Print(&b, newSummary(time.Time{}, 0), nil); err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if v, ok := s["prunedPendingKeys"].([]any); !ok || len(v) != 0 {
		t.Errorf("prunedPendingKeys = %#v, want []:\n%s", s["prunedPendingKeys"], strings.TrimSpace(b.String()))
	}
}
