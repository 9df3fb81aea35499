package renewal

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/certctl/certctl/phases/carotate/castage"
)

// TestPruneKeepsTheBackupsOfARotationInProgress: --keep-backups of a
// renewal or an import made during a CA rotation removed the backups of
// its stages, the only other copy of the old CA key (reissue's), which
// --abort needs and `certctl ca status` points to, and of the records a
// damaged record is written again from (docs/ca-rotation.md). They are
// kept while a rotation is in progress, or its record cannot be read;
// once it has ended they are pruned as any other.
func TestPruneKeepsTheBackupsOfARotationInProgress(t *testing.T) {
	note := BackupNote{MadeBy: "step reissue of the ca rotation (certctl ca rotate)", Undo: "go back with --abort"}
	for _, tc := range []struct {
		name   string
		record string // the record's content, "" for none
		kept   bool   // the rotation's backups are kept
	}{
		{name: "no rotation"},
		{name: "trust", record: "trust", kept: true},
		{name: "reissue", record: "reissue", kept: true},
		{name: "finished", record: "finished"},
		{name: "aborted", record: "aborted"},
		{name: "damaged record", record: "{", kept: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, nil)
			root, _ := BackupRoot(n.certDir())
			for i := range 4 {
				o := n.options(made.Add(time.Duration(i+1) * time.Hour))
				if i < 2 {
					o.Note = note // two stages, then two renewals
				}
				if _, err := Renew(context.Background(), n.targets(t, "admin.conf"), o); err != nil {
					t.Fatal(err)
				}
			}
			switch tc.record {
			case "":
			case "{":
				write(t, filepath.Join(n.certDir(), castage.RecordPrefix+"ca.json"), []byte("{"))
			default:
				data, err := json.Marshal(castage.Record{Version: castage.RecordVersion, CA: "ca", Stage: tc.record})
				if err != nil {
					t.Fatal(err)
				}
				write(t, filepath.Join(n.certDir(), castage.RecordPrefix+"ca.json"), data)
			}
			before, _ := ListBackups(root)
			if len(before) != 4 {
				t.Fatalf("%d backups, want 4", len(before))
			}
			removed, _, err := PruneBackups(n.certDir(), 1)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{before[0].Dir, before[1].Dir, before[2].Dir}
			if tc.kept {
				want = []string{before[2].Dir}
			}
			if !slices.Equal(removed, want) {
				t.Errorf("removed %q, want %q", removed, want)
			}
		})
	}
}
