package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/internal/txn"
)

// TestLinkedCertDirRecoversEitherName: a certificate folder with two
// names (/etc/pki, a link to /data/pki) has a transaction root beside
// each (/etc/.certctl-txn, /data/.certctl-txn), and a run killed under one
// name left its transaction in that one's root, which a run given the
// other name neither saw nor recovered: it wrote the folder with a
// transaction stuck half applied beside it. Recovery now looks beside
// both names (the real folder's, and that of a link to it in a kubeconfig
// folder, kubeadm's layout), finishing a committed transaction and
// discarding an uncommitted one, and so does the check of commands that
// only read (pendingRecovery).
func TestLinkedCertDirRecoversEitherName(t *testing.T) {
	for _, tc := range []struct {
		name             string
		started, givenAs string // "link" or "real"
		committed        bool
	}{
		{"started through the link, committed, run given the real folder", "link", "real", true},
		{"started through the link, not committed, run given the real folder", "link", "real", false},
		{"started in the real folder, committed, run given the link", "real", "link", true},
		{"started in the real folder, not committed, run given the link", "real", "link", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			etc, link, real := treetest.LinkedFolder(t)
			names := map[string]string{"link": link, "real": real}
			if err := os.WriteFile(filepath.Join(real, "apiserver.crt"), []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			id := stuckTxn(t, names[tc.started], "apiserver.crt", "new", tc.committed)

			pending, err := pendingRecovery(names[tc.givenAs], []string{etc})
			if err != nil || !pending {
				t.Errorf("pendingRecovery(%s) = %v, %v; want the transaction beside %s seen", names[tc.givenAs], pending, err, names[tc.started])
			}
			var errOut bytes.Buffer
			release, err := Lock(context.Background(), &errOut, names[tc.givenAs], time.Second, etc)
			if err != nil {
				t.Fatalf("Lock: %v\n%s", err, errOut.String())
			}
			release()
			want, says := "old", "[recover] discarded renewal "+id+","
			if tc.committed {
				want, says = "new", "[recover] finished renewal "+id+","
			}
			if got, _ := os.ReadFile(filepath.Join(real, "apiserver.crt")); string(got) != want {
				t.Errorf("apiserver.crt = %q after recovery, want %q", got, want)
			}
			if !strings.Contains(errOut.String(), says) {
				t.Errorf("recovery says %q, want %q", errOut.String(), says)
			}
			txnRoot, _ := txn.Root(names[tc.started])
			if _, err := os.Stat(txnRoot); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s still exists after recovery (err %v)", txnRoot, err)
			}
			if pending, err := pendingRecovery(names[tc.givenAs], []string{etc}); err != nil || pending {
				t.Errorf("pendingRecovery after recovery = %v, %v; want nothing", pending, err)
			}
		})
	}
}

// stuckTxn leaves beside certDir the transaction of a run killed after
// (committed) or before its commit point, which replaces name in certDir
// by data, and returns its ID.
func stuckTxn(t *testing.T, certDir, name, data string, committed bool) string {
	t.Helper()
	root, err := txn.Root(certDir)
	if err != nil {
		t.Fatal(err)
	}
	return treetest.StuckTxn(t, root, filepath.Join(certDir, name), data, committed)
}

// TestLinkedCertDirRefusesWhileOtherNameHeld: a run given the real folder
// that finds a transaction beside the link's name, whose lock another
// certctl holds (a run given the link, which waits for the real folder's
// lock this one holds), is refused in one line naming the transaction
// folder, and changes nothing: writing the folder now, and that
// transaction rolled forward afterwards, would put older files over the
// new ones.
func TestLinkedCertDirRefusesWhileOtherNameHeld(t *testing.T) {
	etc, link, real := treetest.LinkedFolder(t)
	if err := os.WriteFile(filepath.Join(real, "apiserver.crt"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	stuckTxn(t, link, "apiserver.crt", "new", true)
	path, err := lock.Beside(link)
	if err != nil {
		t.Fatal(err)
	}
	held, err := lock.AcquireWait(context.Background(), path, lock.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	txnRoot, _ := txn.Root(link)
	release, err := Lock(context.Background(), io.Discard, real, time.Second, etc)
	if err == nil {
		release()
	}
	treetest.ErrMentions(t, err, txnRoot, path, "run this command again", "nothing was changed")
	if got, _ := os.ReadFile(filepath.Join(real, "apiserver.crt")); string(got) != "old" {
		t.Errorf("apiserver.crt = %q, want it untouched", got)
	}
}
