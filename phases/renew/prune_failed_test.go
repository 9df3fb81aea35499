package renew

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/renewal"
)

// TestKeepBackupsFailedPruneSaysRenewalDone: a --keep-backups that could
// not remove an old backup (a file in it made immutable) ended a
// successful renewal with only "error: remove old backup
// DIR/.removing-TIME: unlinkat ...: operation not permitted": an SRE read
// it as a renewal that failed, and it said nothing to do. It now says
// that the renewal is done, and how to remove the folder or avoid it.
func TestKeepBackupsFailedPruneSaysRenewalDone(t *testing.T) {
	treetest.RequireChattr(t)
	n := pkitest.NewNode(t, nil)
	renew := func(now time.Time, keep int) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"}, KeepBackups: keep,
			Now: func() time.Time { return now }, Out: &out, ErrOut: &errOut}
		err := Run(context.Background(), o)
		return out.String(), err
	}
	if _, err := renew(pkitest.Made.Add(time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	root, err := renewal.BackupRoot(n.Cluster.CertificatesDir)
	if err != nil {
		t.Fatal(err)
	}
	backups, err := renewal.ListBackups(root)
	if err != nil || len(backups) != 1 {
		t.Fatalf("backups %v, %v: want one", backups, err)
	}
	old := filepath.Join(root, atomicfile.RemovingPrefix+backups[0].Name, "pki", "apiserver.crt")
	treetest.Chattr(t, "+i", filepath.Join(backups[0].Dir, "pki", "apiserver.crt"))
	// The prune renames the folder before it removes it: the flag moves with the file.
	t.Cleanup(func() { exec.Command("chattr", "-i", old).Run() })

	out, err := renew(pkitest.Made.Add(2*time.Hour), 1)
	if !strings.Contains(out, "apiserver renewed") {
		t.Fatalf("nothing renewed: %v\n%s", err, out)
	}
	if err == nil {
		t.Fatal("no error, want the failed prune")
	}
	for _, want := range []string{"remove old backup", "the renewal is done", "chattr -i", "no --keep-backups"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
