package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/manifests"
)

// TestSignerEditAfterKilledRotation: a `ca rotate` killed right after its
// commit leaves kube-controller-manager's new manifest staged in its
// transaction. `signer disable` takes certctl's lock but recovers nothing:
// it edits the old manifest and says it wrote it; the next command's
// recovery then finishes the rotation's transaction, which puts the
// staged manifest over the edit, saying only that it finished a renewal.
// The edit is lost.
// signer enable and disable now finish such a transaction first
// (node.RecoverBesideManifests).
func TestSignerEditAfterKilledRotation(t *testing.T) {
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	kcm := filepath.Join(n.manifestDir, "kube-controller-manager.yaml")
	staged := append([]byte("# the manifest of the rotation's stage\n"), read(t, kcm)...)
	commitByHand(t, n.dir, kcm, staged)
	said := run(t, bin, "signer", "disable", "--manifest", kcm)
	rec := runCode(t, bin, append([]string{"check-expiration"}, n.flags()...)...)
	flags, err := manifests.SignerFlags(read(t, kcm))
	if err != nil {
		t.Fatal(err)
	}
	if flags["cluster-signing-cert-file"] != "" {
		t.Errorf("signer disable said:\n%s\nthen check-expiration:\n%s\nand kube-controller-manager signs again with %s: the edit is lost", said, rec.errOut, flags["cluster-signing-cert-file"])
	}
	if !strings.HasPrefix(string(read(t, kcm)), "# the manifest of the rotation's stage") {
		t.Errorf("the rotation's committed manifest was not kept")
	}
	if _, err := os.Stat(filepath.Join(n.dir, ".certctl-txn")); err == nil {
		t.Errorf("a transaction is left")
	}
}
