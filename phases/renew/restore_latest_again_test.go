package renew

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestRestoreLatestAgainChangesNothing: a restore saves what it replaces
// as a new backup, the newest, so `certctl restore latest` run again (after
// a kill, which the next command recovers, or a session that dropped
// before the SRE saw it end) restored that backup and undid the restore:
// the renewed certificates were back. Run again while its files are in
// place, it is the same restore, with nothing to do; the restore's own
// backup still undoes it, by name.
func TestRestoreLatestAgainChangesNothing(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	var out, errOut bytes.Buffer
	clock := pkitest.Made
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"},
		Now: func() time.Time { return clock }, Out: &out, ErrOut: &errOut}
	original := read(t, n.Path("pki/apiserver.crt"))
	clock = clock.Add(time.Hour)
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err, errOut.String())
	}
	renewed := read(t, n.Path("pki/apiserver.crt"))
	for i := range 2 {
		clock = clock.Add(time.Hour)
		out.Reset()
		if err := Restore(context.Background(), o, "latest"); err != nil {
			t.Fatal(err, errOut.String())
		}
		if now := read(t, n.Path("pki/apiserver.crt")); !bytes.Equal(now, original) {
			t.Fatalf("restore latest, run %d: apiserver.crt is not the one the renewal replaced (renewed again: %v)\n%s", i+1, bytes.Equal(now, renewed), out.String())
		}
	}
	if !strings.Contains(out.String(), "Nothing to do") || !strings.Contains(out.String(), "to undo it, run `certctl restore ") {
		t.Errorf("the second restore latest does not say it has nothing to do, and how to undo:\n%s", out.String())
	}
	// The undo, by name: the restore's own backup.
	entries, err := os.ReadDir(n.Path("certctl-backups"))
	if err != nil || len(entries) != 2 {
		t.Fatalf("backups %v, %v: want the renewal's and the restore's", entries, err)
	}
	out.Reset()
	if err := Restore(context.Background(), o, entries[1].Name()); err != nil {
		t.Fatal(err, errOut.String())
	}
	if now := read(t, n.Path("pki/apiserver.crt")); !bytes.Equal(now, renewed) {
		t.Errorf("restore %s did not undo the restore\n%s", entries[1].Name(), out.String())
	}
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
