package signer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/manifests"
)

// TestManifestEditRemovesKilledWrites: `signer enable|disable` killed
// while it wrote the manifest or its backup leaves the atomic write's
// dot-named temporary file in the manifest folder or in a backup folder
// (TestKillWriters). The next run removes them and says so, whichever
// folder it backs up into, as --use-csr runs do in the CSR folder.
func TestManifestEditRemovesKilledWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc-kubernetes")
	manifest := filepath.Join(dir, "manifests", "kube-controller-manager.yaml")
	data, err := os.ReadFile(filepath.Join("..", "..", "manifests", "staticpods", "testdata", "kubeadm", "kube-controller-manager.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	left := []string{
		filepath.Join(dir, "manifests", ".kube-controller-manager.yaml.tmp-2355423080"),
		filepath.Join(dir, "tmp", "certctl-backup-manifests-2026-01-02-03-04-05", ".kube-controller-manager.yaml.tmp-1677703224"),
	}
	for _, p := range append([]string{manifest}, left...) {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	e := ManifestEdit{Manifest: manifest, BackupDir: t.TempDir(), Now: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC), Out: &out}
	if err := e.Apply(context.Background(), "disable", manifests.DisableSigner); err != nil {
		t.Fatal(err)
	}
	for _, p := range left {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there after the next run (%v)", p, err)
		}
		if !strings.Contains(out.String(), "[recover] removed "+p+", left by an interrupted write") {
			t.Errorf("the next run does not say it removed %s:\n%s", p, out.String())
		}
	}
}
