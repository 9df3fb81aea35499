package carotate

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/pki"
)

// moveManifests puts the fixture's static pod manifests in a folder that
// is not beside its certificate folder, as a kubelet whose staticPodPath
// is not /etc/kubernetes/manifests has them (--manifest-dir).
func moveManifests(t *testing.T, f *fixture) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "static-pods")
	if err := os.Rename(f.manifestDir, dir); err != nil {
		t.Fatal(err)
	}
	f.manifestDir = dir
}

// committedNotApplied leaves what a kill right after a stage's commit
// point leaves: a transaction with its manifest whose file (here
// kube-controller-manager's manifest) is not in place yet.
func committedNotApplied(t *testing.T, f *fixture, target string, data []byte) {
	t.Helper()
	tx, err := txn.Start(f.node.CertDir(), "", f.now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Add(txn.File{Target: target, Data: data, Mode: 0o600, UID: -1, GID: -1}); err != nil {
		t.Fatal(err)
	}
	root, err := txn.Root(f.node.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "*"))
	if len(dirs) != 1 {
		t.Fatalf("transactions %v, want one", dirs)
	}
	staged, _ := os.ReadDir(dirs[0])
	if len(staged) != 1 {
		t.Fatalf("staged files %v, want one", staged)
	}
	sum := sha256.Sum256(data)
	m, err := json.Marshal(map[string]any{"version": 1, "created": f.now, "entries": []map[string]any{{
		"target": target, "staged": staged[0].Name(), "mode": 0o600, "uid": -1, "gid": -1, "sha256": hex.EncodeToString(sum[:])}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirs[0], "manifest.json"), m, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestStatusFinishesAStageInAManifestFolderElsewhere: a stage of ca writes
// kube-controller-manager's manifest in --manifest-dir in its transaction.
// When a kill leaves it committed but not in place, and the manifest folder
// is not beside the certificate folder, ca status and ca rotate --dry-run,
// which finish an interrupted stage before they read, refused it as
// outside the folders they manage (status had no --manifest-dir to name
// it). With the folder given they finish it, and status's next commands
// carry --manifest-dir.
func TestStatusFinishesAStageInAManifestFolderElsewhere(t *testing.T) {
	f := newFixture(t)
	moveManifests(t, f)
	f.rotate(t, pki.CAName, nil)
	kcm := filepath.Join(f.manifestDir, "kube-controller-manager.yaml")
	want := append(mustReadFile(t, kcm), []byte("# finished by the recovery\n")...)
	committedNotApplied(t, f, kcm, want)

	var out bytes.Buffer
	o := f.options(func(o *Options) { o.DryRun = true })
	o.Out = &out
	if _, err := Rotate(context.Background(), pki.CAName, o); err != nil {
		t.Fatalf("ca rotate --dry-run --manifest-dir %s with a stage to finish there: %v\n%s", f.manifestDir, err, out.String())
	}
	if !bytes.Equal(mustReadFile(t, kcm), want) {
		t.Errorf("ca rotate --dry-run did not finish the interrupted stage: %s is not as it wrote it", kcm)
	}

	committedNotApplied(t, f, kcm, append(want, []byte("# again\n")...))
	rerun := " --manifest-dir " + f.manifestDir
	report, err := Status(context.Background(), StatusOptions{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, ManifestDir: f.manifestDir, Now: f.now, Rerun: rerun})
	if err != nil {
		t.Fatalf("ca status --manifest-dir %s with a stage to finish there: %v", f.manifestDir, err)
	}
	if !strings.HasSuffix(string(mustReadFile(t, kcm)), "# again\n") {
		t.Errorf("ca status did not finish the interrupted stage in %s", kcm)
	}
	if next := report.CAs[0].Next; !strings.Contains(next, "certctl ca rotate ca"+rerun+" --restarted") {
		t.Errorf("ca status NEXT %q, want the command with --manifest-dir", next)
	}
}
