package cli

import (
	"bytes"
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

// TestKilledRotationOutsideManifestDir: `ca rotate --manifest-dir DIR`,
// DIR not the manifest folder beside the certificate folder (a kubelet
// with another staticPodPath), killed right after its commit, leaves a
// transaction that names kube-controller-manager's manifest in DIR. Every
// other command refuses to finish it, rightly (DIR is outside its
// folders), but told the user to "find out what made it, then move it
// away": part of the stage may be in place already (here its record), and
// moving the rest away leaves the rotation half made. It now says that a
// `ca rotate` made it and which command finishes it, and that command
// does.
func TestKilledRotationOutsideManifestDir(t *testing.T) {
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	other := filepath.Join(t.TempDir(), "static-pods")
	if err := os.Rename(n.manifestDir, other); err != nil {
		t.Fatal(err)
	}
	n.manifestDir = other
	run(t, bin, n.rotateArgs("ca", false)...) // stage trust
	record := filepath.Join(n.certDir, ".certctl-rotation-ca.json")
	kcm := filepath.Join(other, "kube-controller-manager.yaml")
	// The next stage, killed after its commit had renamed its record but
	// not yet the manifest.
	staged := append([]byte("# the manifest of the next stage\n"), read(t, kcm)...)
	dir := filepath.Join(n.dir, txn.DirName, "20260101T000000Z-0badc0de")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	m := map[string]any{"version": 1, "created": time.Now().UTC(), "entries": []map[string]any{
		{"target": record, "staged": "0", "mode": 0o600, "uid": -1, "gid": -1, "sha256": sum(read(t, record))},
		{"target": kcm, "staged": "1", "mode": 0o600, "uid": -1, "gid": -1, "sha256": sum(staged)},
	}}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for p, d := range map[string][]byte{filepath.Join(dir, "1"): staged, filepath.Join(dir, "manifest.json"): b} {
		if err := os.WriteFile(p, d, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	for _, args := range [][]string{
		append([]string{"check-expiration"}, n.flags()...),
		append([]string{"renew", "apiserver"}, n.flags()...),
	} {
		r := runCode(t, bin, args...)
		said := r.out + r.errOut
		if strings.Contains(said, "move "+dir+" away") {
			t.Errorf("certctl %s tells to move the rotation's committed transaction away:\n%s", args[0], said)
		}
		finish := "certctl ca status --manifest-dir " + other
		if !strings.Contains(said, "ca rotate") || !strings.Contains(said, finish) {
			t.Errorf("certctl %s does not say that a ca rotate made the transaction, nor that %q finishes it:\n%s", args[0], finish, said)
		}
	}
	if !bytes.Equal(read(t, kcm), staged[len("# the manifest of the next stage\n"):]) {
		t.Fatalf("%s changed before the command that finishes the stage", kcm)
	}
	run(t, bin, "ca", "status", "--node-only", "--manifest-dir", other, "--cert-dir", n.certDir, "--kubeconfig-dir", n.dir)
	if !bytes.Equal(read(t, kcm), staged) {
		t.Errorf("ca status --manifest-dir %s did not finish the stage: %s is not its manifest", other, kcm)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("the transaction is left after ca status")
	}
}
