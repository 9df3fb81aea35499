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

// TestKeepBackupsSaysDamaged: a backup whose backup.json is damaged (a
// power loss, an edit) is neither counted nor removed by --keep-backups,
// and each prune passed over it without a word: one more piled up per
// damaged run, kept forever, and no one was told that `restore latest`
// would refuse. Each prune now warns of it, in one line naming its
// backup.json, also with --quiet, and in the summary's warnings; it is
// still kept, and the other backups pruned.
func TestKeepBackupsSaysDamaged(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	var out, errOut bytes.Buffer
	renew := func(now time.Time, quiet bool) Summary {
		t.Helper()
		out.Reset()
		errOut.Reset()
		o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"}, KeepBackups: 1, Quiet: quiet,
			Format: output.Format{Name: "json"}, Now: func() time.Time { return now }, Out: &out, ErrOut: &errOut}
		if err := Run(context.Background(), o); err != nil {
			t.Fatal(err, errOut.String())
		}
		var s Summary
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := renew(pkitest.Made.Add(time.Hour), false)
	damaged := filepath.Join(first.BackupDir, "backup.json")
	if err := os.WriteFile(damaged, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, quiet := range []bool{false, true} {
		s := renew(pkitest.Made.Add(time.Duration(i+2)*time.Hour), quiet)
		var lines []string
		for _, l := range strings.Split(errOut.String(), "\n") {
			if strings.Contains(l, damaged) {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "[warning] ") || !strings.Contains(lines[0], "--keep-backups 1") {
			t.Errorf("quiet %v: want one [warning] line naming %s and --keep-backups 1, got:\n%s", quiet, damaged, errOut.String())
		}
		if !strings.Contains(strings.Join(s.Warnings, "\n"), damaged) {
			t.Errorf("quiet %v: the summary's warnings %q do not name %s", quiet, s.Warnings, damaged)
		}
		if _, err := os.Stat(first.BackupDir); err != nil {
			t.Errorf("the damaged backup was removed: %v", err)
		}
	}
}
