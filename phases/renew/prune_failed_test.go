package renew

import (
	"bytes"
	"context"
	"os"
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
//
// It also said "[backup] Removed the old backup DIR" for that folder,
// which was renamed away but still held its files, and stopped there: a
// second old backup, renamed too, was said removed and was not. Now the
// other backup is removed, the failed one is said not removed, left as
// its dot-name (and not in prunedBackups), and the next prune removes it
// once it can.
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
	for _, h := range []time.Duration{1, 2} {
		if _, err := renew(pkitest.Made.Add(h*time.Hour), 0); err != nil {
			t.Fatal(err)
		}
	}
	root, err := renewal.BackupRoot(n.Cluster.CertificatesDir)
	if err != nil {
		t.Fatal(err)
	}
	backups, err := renewal.ListBackups(root)
	if err != nil || len(backups) != 2 {
		t.Fatalf("backups %v, %v: want two", backups, err)
	}
	stuck, other := backups[0], backups[1]
	leftAs := filepath.Join(root, atomicfile.RemovingPrefix+stuck.Name)
	old := filepath.Join(leftAs, "pki", "apiserver.crt")
	treetest.Chattr(t, "+i", filepath.Join(stuck.Dir, "pki", "apiserver.crt"))
	// The prune renames the folder before it removes it: the flag moves with the file.
	t.Cleanup(func() { exec.Command("chattr", "-i", old).Run() })

	out, err := renew(pkitest.Made.Add(3*time.Hour), 1)
	if !strings.Contains(out, "apiserver renewed") {
		t.Fatalf("nothing renewed: %v\n%s", err, out)
	}
	if err == nil {
		t.Fatal("no error, want the failed prune")
	}
	for _, want := range []string{"remove old backup " + stuck.Dir, "it is left as " + leftAs, "the renewal is done", "chattr -i", "no --keep-backups"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(out, "Removed the old backup "+stuck.Dir) {
		t.Errorf("the backup that could not be removed is said removed:\n%s", out)
	}
	for _, want := range []string{
		"[backup] Could not remove the old backup " + stuck.Dir + " (--keep-backups 1): it is left as " + leftAs + ", which the next prune removes once it can\n",
		"[backup] Removed the old backup " + other.Dir + " (--keep-backups 1)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
	for _, d := range []string{other.Dir, filepath.Join(root, atomicfile.RemovingPrefix+other.Name)} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("the other old backup is still there as %s (%v): the failed one stopped the prune", d, err)
		}
	}
	if _, err := os.Stat(old); err != nil {
		t.Errorf("what is left: %v", err)
	}

	// Once the file may be removed, the next prune removes what is left.
	treetest.Chattr(t, "-i", old)
	if out, err := renew(pkitest.Made.Add(4*time.Hour), 1); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := os.Stat(leftAs); !os.IsNotExist(err) {
		t.Errorf("the next prune left %s (%v)", leftAs, err)
	}
}
