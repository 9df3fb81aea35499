package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCAStatusCarriesManifestDir: on a node whose static pod manifests are
// not in /etc/kubernetes/manifests, ca rotate takes --manifest-dir, but ca
// status had no such flag: the next commands it printed lacked it, so the
// one an SRE pasted edited and restarted from the default folder, and an
// interrupted stage's edit there could not be finished by status. ca
// status --manifest-dir DIR prints commands that carry it.
func TestCAStatusCarriesManifestDir(t *testing.T) {
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	elsewhere := filepath.Join(t.TempDir(), "static-pods")
	if err := os.Rename(n.manifestDir, elsewhere); err != nil {
		t.Fatal(err)
	}
	n.manifestDir = elsewhere
	run(t, bin, n.rotateArgs("ca", false)...)
	out := runOut(t, bin, append([]string{"ca", "status", "--node-only", "--manifest-dir", elsewhere}, n.flags()...)...)
	// --node-only too: the command is one to copy (TestRotStatusNextCarriesNodeOnly).
	if !strings.Contains(out, "certctl ca rotate ca --cert-dir "+n.certDir+" --kubeconfig-dir "+n.dir+" --manifest-dir "+elsewhere+" --node-only --restarted") {
		t.Errorf("ca status --manifest-dir %s prints next commands without it:\n%s", elsewhere, out)
	}
}
