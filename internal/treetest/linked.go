package treetest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// LinkedFolder makes, in a new temporary folder, kubeadm's layout with
// the certificate folder on a data disk: etc (the kubeconfig folder,
// /etc/kubernetes), real (BASE/data/pki, /data/pki) and link (etc/pki, a
// symbolic link to real).
func LinkedFolder(t testing.TB) (etc, link, real string) {
	t.Helper()
	base := t.TempDir()
	etc, real = filepath.Join(base, "etc"), filepath.Join(base, "data", "pki")
	for _, d := range []string{etc, real} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link = filepath.Join(etc, "pki")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	return etc, link, real
}

// BehindLink moves the folder dir to data/pki in a new temporary folder
// and puts a symbolic link to it at dir, as a node whose
// /etc/kubernetes/pki was moved to /data/pki; it returns the folder's new
// path.
func BehindLink(t testing.TB, dir string) string {
	t.Helper()
	real := filepath.Join(t.TempDir(), "data", "pki")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, real); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, dir); err != nil {
		t.Fatal(err)
	}
	return real
}

// StuckTxn leaves in root, a transaction folder (internal/txn's Root,
// which this package may not import), the transaction of a run killed
// after (committed) or before its commit point, which replaces target by
// data; it returns the transaction's ID.
func StuckTxn(t testing.TB, root, target, data string, committed bool) string {
	t.Helper()
	id := "20261206T100000Z-00000001"
	dir := filepath.Join(root, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "0"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if committed {
		sum := sha256.Sum256([]byte(data))
		m := `{"version":1,"created":"2026-12-06T10:00:00Z","entries":[{"target":"` + target + `","staged":"0","mode":420,"uid":-1,"gid":-1,"sha256":"` + hex.EncodeToString(sum[:]) + `"}]}`
		if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(m), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return id
}
