package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/txn"
)

// TestReadDuringApply: check-expiration run while another certctl
// replaces a certificate and its key (its transaction committed, the
// certificate renamed into place, the key not yet) read the new
// certificate with the old key, once, and reported a key that does not
// match ("restore the matching pair from a backup"): the transaction's
// folder made it skip to the lock, which the writer holds, and it read the
// files as they were without checking that they had settled. It now reads
// them again once the transaction is in place.
func TestReadDuringApply(t *testing.T) {
	etc, crt, key, root := applyingNode(t)
	path, err := lock.Beside(filepath.Join(etc, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := lock.AcquireWait(context.Background(), path, lock.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()

	var seen []string
	var errOut bytes.Buffer
	err = Read(context.Background(), &errOut, filepath.Join(etc, "pki"), []string{etc}, func() error {
		seen = append(seen, readPair(t, crt, key))
		if len(seen) == 1 {
			// The writer renames the key into place and removes its
			// transaction while the reader reads; it keeps the lock.
			finishApply(t, key, root)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 || seen[len(seen)-1] != "new/new" {
		t.Errorf("Read's reads saw %q; want the last to see the transaction in place (new/new)", seen)
	}
	if n := strings.Count(errOut.String(), "[recover] skipped"); n != 1 {
		t.Errorf("errOut %q: want one [recover] skipped line, got %d", errOut.String(), n)
	}
}

// TestDryRunDuringApply: a dry run that ran while a transaction was being
// applied planned for its files half replaced when no folder's
// modification time moved while it ran (the file system's clock ticks
// every few milliseconds; two renames in one tick leave it as after the
// first): it now runs again until no transaction is being applied.
func TestDryRunDuringApply(t *testing.T) {
	etc, crt, key, root := applyingNode(t)
	var out bytes.Buffer
	n := 0
	err := DryRun(context.Background(), io.Discard, &out, filepath.Join(etc, "pki"), []string{etc}, true, func(w io.Writer) error {
		fmt.Fprint(w, readPair(t, crt, key))
		if n++; n == 1 {
			// Only the commit mark goes, which moves no watched
			// folder's time: as renames within one tick of its clock.
			if err := os.WriteFile(key, []byte("new"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(root, applyingID, "manifest.json")); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	})
	if err != nil || out.String() != "new/new" {
		t.Errorf("DryRun printed %q, %v; want the plan for the transaction in place (new/new)", out.String(), err)
	}
}

const applyingID = "20260301T120000Z-0badcafe"

// applyingNode makes a node whose pair a.crt, a.key a committed
// transaction is replacing: its folder holds its manifest (txn's commit
// mark), the certificate is new, the key still old. It returns the
// kubeconfig folder (pki's parent), the pair and the transaction root.
func applyingNode(t *testing.T) (etc, crt, key, root string) {
	t.Helper()
	etc = t.TempDir()
	certDir := filepath.Join(etc, "pki")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	crt, key = filepath.Join(certDir, "a.crt"), filepath.Join(certDir, "a.key")
	for p, s := range map[string]string{crt: "new", key: "old"} {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	root, err := txn.Root(certDir)
	if err != nil {
		t.Fatal(err)
	}
	tx := filepath.Join(root, applyingID)
	if err := os.MkdirAll(tx, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tx, "manifest.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	return etc, crt, key, root
}

func readPair(t *testing.T, crt, key string) string {
	t.Helper()
	c, err := os.ReadFile(crt)
	if err != nil {
		t.Fatal(err)
	}
	k, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(c) + "/" + string(k)
}

// finishApply puts the new key in place and removes the transaction, as
// the end of its apply does.
func finishApply(t *testing.T, key, root string) {
	t.Helper()
	if err := os.WriteFile(key, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
}
