package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRenewJSONListsPrunedPendingKeys: with -o json the line saying a
// pending key of an installed certificate was removed goes to stderr, and
// the summary had no field for it: a cron job reading the JSON never
// learnt that a copy of a private key in use had been on disk. The
// summary lists each (prunedPendingKeys).
func TestRenewJSONListsPrunedPendingKeys(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	pending := filepath.Join(n.dir, ".certctl-pending")
	if err := os.Mkdir(pending, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(n.certDir, "apiserver.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pending, "apiserver.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "720h", "-o", "json"}, n.flags()...)...)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\n%s%s", r.code, r.out, r.errOut)
	}
	var s struct {
		PrunedPendingKeys []struct{ Name, File string } `json:"prunedPendingKeys"`
	}
	if err := json.Unmarshal([]byte(r.out), &s); err != nil {
		t.Fatalf("%v\n%s", err, r.out)
	}
	want := filepath.Join(pending, "apiserver.key")
	if len(s.PrunedPendingKeys) != 1 || s.PrunedPendingKeys[0].Name != "apiserver" || s.PrunedPendingKeys[0].File != want {
		t.Errorf("prunedPendingKeys = %+v, want apiserver, %s\n%s", s.PrunedPendingKeys, want, r.out)
	}
	if !strings.Contains(r.errOut, "[renew] Removed the pending key of apiserver") || slices.Contains(strings.Split(r.out, "\n"), "[renew] Removed the pending key of apiserver: its certificate is installed") {
		t.Errorf("the line is not on stderr only:\nstdout:\n%s\nstderr:\n%s", r.out, r.errOut)
	}
	if _, err := os.Stat(want); !os.IsNotExist(err) {
		t.Errorf("the pending key is still there (%v)", err)
	}
}
