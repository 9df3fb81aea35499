package cli

import (
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

// commitByHand writes, in root's transaction folder, a committed
// transaction (internal/txn's manifest format version 1) that replaces
// target with data, as a renewal killed right after its commit leaves it.
func commitByHand(t *testing.T, root, target string, data []byte) {
	t.Helper()
	dir := filepath.Join(root, txn.DirName, "20260101T000000Z-0badc0de")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	m := map[string]any{"version": 1, "created": time.Now().UTC(), "entries": []map[string]any{
		{"target": target, "staged": "0", "mode": 0o644, "uid": 0, "gid": 0, "sha256": hex.EncodeToString(sum[:])},
	}}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for p, d := range map[string][]byte{filepath.Join(dir, "0"): data, filepath.Join(dir, "manifest.json"): b} {
		if err := os.WriteFile(p, d, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecoveryScope: recovery finishes a committed transaction inside the
// folders the command manages, also when they are not kubeadm's names, and
// refuses one that names a file elsewhere, writing nothing (issue 13,
// defect 7).
func TestRecoveryScope(t *testing.T) {
	bin := certctlBin(t)

	t.Run("outside", func(t *testing.T) {
		n := makeNode(t, bin, "ECDSA-P256")
		victim := filepath.Join(t.TempDir(), "victim")
		if err := os.WriteFile(victim, []byte("keep me\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		commitByHand(t, n.dir, victim, []byte("overwritten\n"))
		r := runCode(t, bin, append([]string{"check-expiration"}, n.flags()...)...)
		if got, _ := os.ReadFile(victim); string(got) != "keep me\n" {
			t.Fatalf("check-expiration's recovery overwrote %s: %q\n%s%s", victim, got, r.out, r.errOut)
		}
		if !strings.Contains(r.out+r.errOut, victim) {
			t.Errorf("the refusal does not name %s: exit %d\n%s%s", victim, r.code, r.out, r.errOut)
		}
		if w := runCode(t, bin, append([]string{"renew", "apiserver"}, n.flags()...)...); w.code == 0 {
			t.Errorf("renew went on over a refused transaction:\n%s%s", w.out, w.errOut)
		}
		if got, _ := os.ReadFile(victim); string(got) != "keep me\n" {
			t.Fatalf("renew's recovery overwrote %s", victim)
		}
	})

	t.Run("own folders with other names", func(t *testing.T) {
		base := t.TempDir()
		certDir, kcDir := filepath.Join(base, "certs"), filepath.Join(base, "kubeconfigs")
		id := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256"}
		run(t, bin, append([]string{"init-phase", "certs", "all", "--cert-dir", certDir}, id...)...)
		run(t, bin, append([]string{"init-phase", "kubeconfig", "all", "--cert-dir", certDir, "--kubeconfig-dir", kcDir}, id...)...)
		admin := filepath.Join(kcDir, "admin.conf")
		data, err := os.ReadFile(admin)
		if err != nil {
			t.Fatal(err)
		}
		changed := append([]byte("# recovered\n"), data...)
		commitByHand(t, base, admin, changed)
		r := runCode(t, bin, "renew", "apiserver", "--cert-dir", certDir, "--kubeconfig-dir", kcDir)
		if r.code != 0 {
			t.Fatalf("renew after an interrupted renewal in its own folders: exit %d\n%s%s", r.code, r.out, r.errOut)
		}
		if got, _ := os.ReadFile(admin); string(got) != string(changed) {
			t.Errorf("the committed transaction in the command's own folders was not finished")
		}
	})
}
