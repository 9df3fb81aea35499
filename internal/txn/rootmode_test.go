package txn

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusesOpenRoot: the transaction folder beside the certificate
// folder is certctl's, made 0700. One that group or others may write (a
// chmod, a folder another tool made) lets another user put a committed
// transaction there, which recovery would install, as root, into the
// certificate folders (a new ca.key, its mode and owner from the
// manifest). RecoverIn and Begin refuse it and say what to do; no target
// is touched.
func TestRefusesOpenRoot(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o770, 0o702} {
		t.Run(mode.String(), func(t *testing.T) {
			tr := newTree(t)
			// A transaction planted by another user: committed, replacing
			// apiserver.key with content of theirs.
			planted := filepath.Join(tr.root, "20260301T120000Z-deadbeef")
			if err := os.MkdirAll(planted, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(planted, "0"), []byte("theirs"), 0o600); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte("theirs"))
			m := manifest{Version: manifestVersion, Created: t0, Entries: []entry{{Target: tr.files[1], Staged: "0", Mode: 0o644, UID: -1, GID: -1,
				SHA256: hex.EncodeToString(sum[:])}}}
			data, _ := json.Marshal(m)
			if err := os.WriteFile(filepath.Join(planted, manifestName), data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(tr.root, mode); err != nil {
				t.Fatal(err)
			}
			_, err := RecoverIn(tr.root, tr.scope())
			if err == nil || !strings.Contains(err.Error(), tr.root) || !strings.Contains(err.Error(), "chmod 700 "+tr.root) {
				t.Errorf("RecoverIn = %v, want it refused, saying chmod 700 %s", err, tr.root)
			}
			if data, _ := os.ReadFile(tr.files[1]); string(data) != "old apiserver.key" {
				t.Errorf("%s = %q after the refused recovery", tr.files[1], data)
			}
			if _, err := Begin(tr.root, "20260301T120001Z-00000002", t0); err == nil || !strings.Contains(err.Error(), "chmod 700 "+tr.root) {
				t.Errorf("Begin = %v, want it refused", err)
			}
		})
	}
}
