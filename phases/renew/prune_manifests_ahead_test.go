package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestManifestBackupsAheadOfTheClock: tmp/ holds two manifest backup
// folders dated a year ahead (left while the node's clock was ahead,
// before it was set back) and yesterday's. With --keep-backups 2 the
// folders ahead counted among the two kept and were never removed while
// the clock stayed behind their names, so yesterday's, the newest true
// backup, was removed at once, and so was every run's the next day. Those
// ahead are now removed first: the run's own and yesterday's remain.
func TestManifestBackupsAheadOfTheClock(t *testing.T) {
	n, o := owedNode(t)
	o.KeepBackups, o.Restart.Timeout, o.Format = 2, time.Second, output.Format{Name: "json"}
	today := pkitest.Made.Add(10 * 24 * time.Hour).Add(time.Hour)
	clock := treetest.NewStepClock(today)
	o.Now, o.Sleep = clock.Now, clock.Sleep
	tmp := n.Path("tmp")
	name := func(at time.Time) string {
		return filepath.Join(tmp, "certctl-backup-manifests-"+at.UTC().Format("2006-01-02-15-04-05"))
	}
	yesterday := name(today.Add(-24 * time.Hour))
	ahead := []string{name(today.Add(365 * 24 * time.Hour)), name(today.Add(366 * 24 * time.Hour))}
	for _, d := range append([]string{yesterday}, ahead...) {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "kube-apiserver.yaml"), []byte("old\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	o.Out = &out
	if err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Fatalf("%v, want kube-apiserver unreachable\n%s", err, out.String())
	}
	var s struct {
		PrunedManifestBackups []string `json:"prunedManifestBackups"`
	}
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	dirs, _ := filepath.Glob(filepath.Join(tmp, "certctl-backup-manifests-*"))
	own := name(today)
	if len(dirs) != 2 || !slices.Contains(dirs, yesterday) || !slices.ContainsFunc(dirs, func(d string) bool { return strings.HasPrefix(d, own[:len(own)-len("-15-04-05")]) && d != yesterday }) {
		t.Errorf("manifest backups %q, want this run's and yesterday's %s (--keep-backups 2)", dirs, yesterday)
	}
	slices.Sort(s.PrunedManifestBackups)
	if !slices.Equal(s.PrunedManifestBackups, ahead) {
		t.Errorf("prunedManifestBackups %q, want those ahead of the clock %q", s.PrunedManifestBackups, ahead)
	}
}
