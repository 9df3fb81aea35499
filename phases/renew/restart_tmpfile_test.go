package renew

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestRestartRefusesBackupParentNotAFolder: each restart first copies
// the manifest it annotates into tmp/certctl-backup-manifests-TIME beside
// the manifest folder. A tmp that was a file was found only after the
// renewal had committed: every restart, that day and every retry after,
// failed with "check backup folder .../tmp/certctl-backup-manifests-TIME:
// stat ...: not a directory", which said nothing to do. It is refused
// first, with nothing changed, as the dry run refuses it.
func TestRestartRefusesBackupParentNotAFolder(t *testing.T) {
	for _, dryRun := range []bool{false, true} {
		n := pkitest.NewNode(t, nil)
		manifests := n.Path("manifests")
		if err := os.Mkdir(manifests, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(n.Path("tmp"), []byte("not a folder\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		before := treetest.Snapshot(t, n.Dir)
		var out, errOut bytes.Buffer
		o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"}, DryRun: dryRun,
			Restart: Restart{Enabled: true, ManifestDir: manifests, Timeout: time.Second},
			Now:     func() time.Time { return pkitest.Made.Add(time.Hour) }, Out: &out, ErrOut: &errOut}
		err := Run(context.Background(), o)
		want := "the folder of the manifests' backups " + n.Path("tmp") + " is a file, not a folder"
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "move it away") {
			t.Errorf("dry run %v: %v, want %q\n%s", dryRun, err, want, out.String())
		}
		after := treetest.Snapshot(t, n.Dir)
		delete(after, n.Path(".certctl.lock")) // the lock file beside the certificate folder, whose content is its holder
		treetest.AssertSame(t, before, after)
	}
}
