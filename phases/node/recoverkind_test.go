package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/txn"
)

// TestRecoveryNamesDownload: every interrupted transaction was recovered
// as a "renewal", a killed `certs download` too. txn.WriteAllKind names the
// transaction's kind in its ID, and recovery says "download" for it;
// an ID without a kind (renew's) still reads "renewal".
func TestRecoveryNamesDownload(t *testing.T) {
	certDir := filepath.Join(t.TempDir(), "pki")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	// A download killed before its commit: staged files, no manifest.
	tx, err := txn.Start(certDir, TxnDownload, now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Add(txn.File{Target: filepath.Join(certDir, "ca.crt"), Data: []byte("x"), Mode: 0o644, UID: -1, GID: -1}); err != nil {
		t.Fatal(err)
	}
	root, err := txn.Root(certDir)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := os.ReadDir(root)
	if err != nil || len(ids) != 1 || !strings.HasSuffix(ids[0].Name(), "-download") {
		t.Fatalf("transactions %v (%v), want one whose ID ends with -download", ids, err)
	}
	id := ids[0].Name()
	var errOut bytes.Buffer
	release, err := Lock(context.Background(), &errOut, certDir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if got := errOut.String(); !strings.Contains(got, "[recover] discarded download "+id+",") || strings.Contains(got, "renewal") {
		t.Errorf("recovery of a killed download says:\n%s", got)
	}

	// Committed ones, and the kind of renew's IDs.
	var out bytes.Buffer
	printRecovery(&out, &txn.Report{Transactions: []txn.Outcome{
		{ID: id, Committed: true, Targets: []string{"a", "b"}},
		{ID: "20260301T100000Z-0badf00d", Committed: true, Targets: []string{"a"}},
		{ID: "20260301T100000Z-0badf00d-other"},
		{ID: "20260301T100000Z-0badf00d-import", Committed: true, Targets: []string{"a"}},
		{ID: "20260301T100000Z-0badf00d-restore"},
		{ID: "20260301T100000Z-0badf00d-rotation", Committed: true, Targets: []string{"a"}},
	}})
	for _, want := range []string{
		"[recover] finished import 20260301T100000Z-0badf00d-import,",
		"[recover] discarded restore 20260301T100000Z-0badf00d-restore,",
		"[recover] finished rotation 20260301T100000Z-0badf00d-rotation,",
		"[recover] finished download " + id + ", which was interrupted after it committed: 2 file(s)",
		"[recover] finished renewal 20260301T100000Z-0badf00d,",
		"[recover] discarded renewal 20260301T100000Z-0badf00d-other,",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
}
