package renew

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestDryRunOnReadOnlyFileSystem: `renew --dry-run` on a read-only
// /etc/kubernetes prints its plan, then says that the real run would fail
// there, and exits non-zero as the real run would. It printed no plan,
// only the refusal, while init-phase --dry-run lists its files, and the
// lock's own hint for a read-only file system says "--dry-run writes
// nothing": where a user reads the plan before remounting.
func TestDryRunOnReadOnlyFileSystem(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	treetest.ReadOnly(t, n.Dir)
	before := treetest.Snapshot(t, filepath.Dir(n.Dir))
	now := pkitest.Made.Add(time.Hour)
	var out, errOut bytes.Buffer
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver", "admin.conf"}, DryRun: true,
		Now: func() time.Time { return now }, Out: &out, ErrOut: &errOut}
	err := Run(context.Background(), o)
	treetest.ErrMentions(t, err, "the real run would fail", "read-only file system", "remount it read-write")
	for _, want := range []string{
		"[dry-run] apiserver would be renewed: " + n.Path("pki/apiserver.crt"),
		"[dry-run] admin.conf would be renewed: " + n.Path("admin.conf"),
		"[dry-run] 2 certificate(s) would be renewed, but the real run would fail before writing anything; nothing was written",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("out lacks %q:\n%s", want, out.String())
		}
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(n.Dir)))

	// The real run refuses before it writes, as before (at its lock): no
	// plan printed.
	out.Reset()
	o.DryRun = false
	err = Run(context.Background(), o)
	treetest.ErrMentions(t, err, "read-only file system", "remount")
	if strings.Contains(out.String(), "would be renewed") {
		t.Errorf("the real run printed a plan:\n%s", out.String())
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(n.Dir)))
}

// TestRestoreDryRunOnReadOnlyFileSystem: `restore NAME --dry-run` on a
// read-only /etc/kubernetes lists what it would restore, then says that
// the real restore would fail there, as renew --dry-run now does; it
// printed only the refusal.
func TestRestoreDryRunOnReadOnlyFileSystem(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := func() time.Time { return pkitest.Made.Add(2 * time.Hour) }
	var out bytes.Buffer
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"}, LockTimeout: time.Second, Now: now, Out: &out, ErrOut: &out}
	if err := Run(context.Background(), o); err != nil {
		t.Fatalf("renew: %v\n%s", err, out.String())
	}
	treetest.ReadOnly(t, n.Dir)
	before := treetest.Snapshot(t, filepath.Dir(n.Dir))
	out.Reset()
	o = Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, DryRun: true, LockTimeout: time.Second, Now: now, Out: &out, ErrOut: &out}
	err := Restore(context.Background(), o, "latest")
	treetest.ErrMentions(t, err, "the real restore would fail", "read-only file system", "remount it read-write")
	for _, want := range []string{"[dry-run] " + n.Path("pki/apiserver.crt") + " would be restored from ", "[dry-run] 2 file(s) would be restored; nothing was written"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("out lacks %q:\n%s", want, out.String())
		}
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(n.Dir)))
}
