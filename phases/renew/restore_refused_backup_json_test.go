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

// TestRestoreRefusedNamesTheBackup: a restore refused after its backup
// was found (a backup a CA rotation's step made, which restoring would
// half undo) printed a RestoreSummary with "backup": "", though the
// error names the folder: a script reading the summary could not tell
// which backup `latest` was.
func TestRestoreRefusedNamesTheBackup(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	var out, errOut bytes.Buffer
	clock := pkitest.Made.Add(time.Hour)
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"},
		Now: func() time.Time { return clock }, Out: &out, ErrOut: &errOut}
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err, errOut.String())
	}
	backups, err := filepath.Glob(n.Path("certctl-backups/*/backup.json"))
	if err != nil || len(backups) != 1 {
		t.Fatalf("backups %v, %v: want the renewal's", backups, err)
	}
	var m map[string]any
	if err := json.Unmarshal(read(t, backups[0]), &m); err != nil {
		t.Fatal(err)
	}
	m["madeBy"], m["undo"] = "step reissue of the ca rotation (certctl ca rotate)", "go back with --abort"
	data, _ := json.Marshal(m)
	if err := os.WriteFile(backups[0], data, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(backups[0])
	for _, dryRun := range []bool{false, true} {
		out.Reset()
		o.DryRun, o.Format = dryRun, output.Format{Name: "json"}
		err := Restore(context.Background(), o, "latest")
		if err == nil || !strings.Contains(err.Error(), "ca rotation") {
			t.Fatalf("dry run %v: error %v, want the restore refused for the rotation's backup", dryRun, err)
		}
		var s RestoreSummary
		if jerr := json.Unmarshal(out.Bytes(), &s); jerr != nil || s.ExitCode != 1 || s.Backup != dir {
			t.Errorf("dry run %v: summary %+v (%v), want exitCode 1 and backup %s\n%s", dryRun, s, jerr, dir, out.String())
		}
	}
}
