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
)

// TestRestoreLatestWarnsOfDamaged: after the clock was set back, the last
// run's backup, damaged and with no seq left in its backup.json, is dated
// before the first run's; `certctl restore latest` restored the first
// run's without a word. It still does (the damaged one may be an old one,
// kept), but says so on stderr, naming both, and in -o json's warnings.
func TestRestoreLatestWarnsOfDamaged(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	var out, errOut bytes.Buffer
	clock := pkitest.Made.Add(10 * time.Hour)
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"},
		Now: func() time.Time { return clock }, Out: &out, ErrOut: &errOut}
	var backups []string
	for range 2 {
		if err := Run(context.Background(), o); err != nil {
			t.Fatal(err, errOut.String())
		}
		entries, _ := os.ReadDir(n.Path("certctl-backups"))
		for _, e := range entries {
			if p := n.Path("certctl-backups/" + e.Name()); !strings.Contains(strings.Join(backups, " "), p) {
				backups = append(backups, p)
			}
		}
		clock = clock.Add(-5 * time.Hour) // set back
	}
	if len(backups) != 2 {
		t.Fatalf("backups %q", backups)
	}
	if err := os.WriteFile(filepath.Join(backups[1], "backup.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if err := Restore(context.Background(), o, "latest"); err != nil {
		t.Fatal(err, errOut.String())
	}
	var line string
	for _, l := range strings.Split(errOut.String(), "\n") {
		if strings.HasPrefix(l, "[warning] `latest` took ") {
			line = l
		}
	}
	for _, want := range []string{backups[0], backups[1], "clock was set back", "certctl restore " + filepath.Base(backups[1])} {
		if !strings.Contains(line, want) {
			t.Errorf("no [warning] line saying %q:\n%s", want, errOut.String())
		}
	}
	if !strings.Contains(out.String(), "from "+backups[0]) {
		t.Errorf("not restored from %s:\n%s", backups[0], out.String())
	}

	out.Reset()
	o.Format = output.Format{Name: "json"}
	o.DryRun = true
	if err := Restore(context.Background(), o, "latest"); err != nil {
		t.Fatal(err, errOut.String())
	}
	var s RestoreSummary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err, out.String())
	}
	if !strings.Contains(strings.Join(s.Warnings, "\n"), backups[1]) {
		t.Errorf("-o json's warnings %q do not name %s", s.Warnings, backups[1])
	}
}
