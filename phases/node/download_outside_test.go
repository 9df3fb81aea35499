package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/txn"
)

// TestLockNamesInterruptedDownload: a `certs download` killed after its
// commit, whose etcd.external files lie outside the certificate folder,
// was met by every other command with "find out what made it, then move
// it away", which would keep the half-written files for good. The error
// now says to run the download again, which finishes it
// (copycerts' TestDownloadRecoversExternalEtcdFiles); a transaction of
// another kind keeps the old advice. Nothing is written either way.
func TestLockNamesInterruptedDownload(t *testing.T) {
	for _, tt := range []struct{ id, want string }{
		{"20260301T100000Z-0badc0de-download", "run `certctl certs download` again with the same --config to finish it"},
		{"20260301T100000Z-0badc0de", "find out what made it, then move"},
	} {
		base := t.TempDir()
		certDir := filepath.Join(base, "kubernetes", "pki")
		ssl := filepath.Join(base, "etcd-ssl")
		for _, d := range []string{certDir, ssl} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		root, err := txn.Root(certDir)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, tt.id)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		data := []byte("new")
		sum := sha256.Sum256(data)
		target := filepath.Join(ssl, "ca.pem")
		m, err := json.Marshal(map[string]any{"version": 1, "created": time.Now().UTC(), "entries": []map[string]any{
			{"target": target, "staged": "0", "mode": 0o644, "uid": -1, "gid": -1, "sha256": hex.EncodeToString(sum[:])}}})
		if err != nil {
			t.Fatal(err)
		}
		for p, d := range map[string][]byte{filepath.Join(dir, "0"): data, filepath.Join(dir, "manifest.json"): m} {
			if err := os.WriteFile(p, d, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		_, err = Lock(context.Background(), &bytes.Buffer{}, certDir, time.Second)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: Lock = %v, want one line with %q", tt.id, err, tt.want)
		}
		if _, err := os.Stat(target); !os.IsNotExist(err) {
			t.Errorf("%s: %s was written (err %v)", tt.id, target, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
			t.Errorf("%s: the transaction was touched: %v", tt.id, err)
		}
	}
}
