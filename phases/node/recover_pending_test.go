package node

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/certdir"
	"github.com/certctl/certctl/internal/txn"
)

// TestRecoverRemovesPendingKey: a `renew --use-api` install removes the
// pending key of each certificate in its own transaction (txn.File.Remove,
// the key in certdir.PendingKeys beside the certificate folder). Killed
// after its commit, every command must finish it: the pending-key folder
// was outside recovery's scope, so every command refused to recover and
// said to move the transaction away, which could leave a certificate that
// does not match its key.
func TestRecoverRemovesPendingKey(t *testing.T) {
	dir := t.TempDir()
	certDir := filepath.Join(dir, "pki")
	pending := filepath.Join(dir, certdir.PendingKeys)
	for _, d := range []string{certDir, pending} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	key := filepath.Join(pending, "apiserver.key")
	if err := os.WriteFile(key, []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	root, err := txn.Root(certDir)
	if err != nil {
		t.Fatal(err)
	}
	id := filepath.Join(root, "20261206T100000Z-00000001")
	if err := os.MkdirAll(id, 0o700); err != nil {
		t.Fatal(err)
	}
	// Committed: the manifest is the commit point.
	m := `{"version":2,"created":"2026-12-06T10:00:00Z","entries":[{"target":"` + key + `","staged":"","mode":0,"uid":-1,"gid":-1,"sha256":"","remove":true}]}`
	if err := os.WriteFile(filepath.Join(id, "manifest.json"), []byte(m), 0o600); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	release, err := Lock(context.Background(), &errOut, certDir, time.Second)
	if err != nil {
		t.Fatalf("recovery of a committed removal of a pending key: %v\n%s", err, errOut.String())
	}
	release()
	if want := "[recover] finished renewal 20261206T100000Z-00000001, which was interrupted after it committed: 0 file(s) now hold the new content; 1 removed (" + key + ")"; !strings.Contains(errOut.String(), want) {
		t.Errorf("recovery says %q, want %q", errOut.String(), want)
	}
	if _, err := os.Stat(key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("pending key %s after recovery: %v, want removed", key, err)
	}
}
