package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCronRunRecoversHalfRenewedPair: a renewal killed after apiserver.crt
// was renamed into place, before apiserver.key was, leaves them not
// matching until the next certctl command finishes its transaction. The
// next cron run, with nothing due (the new certificate is valid for a
// year), said "Nothing to do" and exited 2 without finishing it, every
// day. It now finishes it first, then exits 2 as before.
func TestCronRunRecoversHalfRenewedPair(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	key := filepath.Join(n.certDir, "apiserver.key")
	old, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	run(t, bin, append([]string{"renew", "apiserver", "--no-backup"}, n.flags()...)...)
	renewed, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	// What the kill left: the key back as it was, its new content staged
	// in the committed transaction; the certificate's staged file gone.
	if err := os.WriteFile(key, old, 0o600); err != nil {
		t.Fatal(err)
	}
	txn := filepath.Join(n.dir, ".certctl-txn", "20260301T120000Z-0badcafe")
	if err := os.MkdirAll(txn, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(txn, "1"), renewed, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(renewed)
	m := `{"version":1,"created":"2026-03-01T12:00:00Z","entries":[` +
		`{"target":"` + filepath.Join(n.certDir, "apiserver.crt") + `","staged":"0","mode":420,"uid":-1,"gid":-1,"sha256":""},` +
		`{"target":"` + key + `","staged":"1","mode":384,"uid":-1,"gid":-1,"sha256":"` + hex.EncodeToString(sum[:]) + `"}]}`
	if err := os.WriteFile(filepath.Join(txn, "manifest.json"), []byte(m), 0o600); err != nil {
		t.Fatal(err)
	}

	r := runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "720h"}, n.flags()...)...)
	if r.code != 2 {
		t.Errorf("exit %d, want 2 (nothing due)\n%s%s", r.code, r.out, r.errOut)
	}
	if !strings.Contains(r.errOut, "[recover] finished renewal 20260301T120000Z-0badcafe") {
		t.Errorf("the run does not say it finished the interrupted renewal:\n%s", r.errOut)
	}
	verifyOpenSSL(t, n.pairs(t, t.TempDir()))
	if left := leftovers(n.dir); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
