package node

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLockRemovesManifestTempFiles: a kill during a manifest's write
// (manifests.Replace) left its dot-named temporary file in the manifest
// folder or in certctl's manifest backup folder under tmp/, and no later
// run removed it. The lock's recovery now removes it there too, and
// leaves every other file, a dot-file of someone else's included.
func TestLockRemovesManifestTempFiles(t *testing.T) {
	root := t.TempDir()
	certDir := filepath.Join(root, "pki")
	manifests := filepath.Join(root, "manifests")
	backup := filepath.Join(root, "tmp", "certctl-backup-manifests-2026-12-05-15-00-00")
	kubeadmBackup := filepath.Join(root, "tmp", "kubeadm-backup-manifests-2026-12-05-15-00-00")
	for _, d := range []string{certDir, manifests, backup, kubeadmBackup} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string) string {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gone := []string{
		write(filepath.Join(manifests, ".etcd.yaml.tmp-123")),
		write(filepath.Join(backup, ".etcd.yaml.tmp-456")),
	}
	kept := []string{
		write(filepath.Join(manifests, "etcd.yaml")),
		write(filepath.Join(manifests, ".swp")),
		write(filepath.Join(backup, "etcd.yaml")),
		write(filepath.Join(kubeadmBackup, ".etcd.yaml.tmp-789")),
	}
	var errOut bytes.Buffer
	release, err := Lock(context.Background(), &errOut, certDir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	release()
	for _, p := range gone {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there after the lock's recovery (err %v)", p, err)
		}
		if !strings.Contains(errOut.String(), "[recover] removed "+p+", left by an interrupted write") {
			t.Errorf("recovery does not say it removed %s:\n%s", p, errOut.String())
		}
	}
	for _, p := range kept {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

// TestLockManifestFolderNotAFolder: a file where the manifest folder
// would be is not certctl's to judge: the lock's recovery goes on.
func TestLockManifestFolderNotAFolder(t *testing.T) {
	root := t.TempDir()
	certDir := filepath.Join(root, "pki")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "manifests"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	release, err := Lock(context.Background(), &bytes.Buffer{}, certDir, time.Second)
	if err != nil {
		t.Fatalf("Lock with a file named manifests beside %s: %v", certDir, err)
	}
	release()
}

// TestReadRemovesManifestTempFiles: the read-only commands (check-expiration,
// certs list) recovered only when the certificate or kubeconfig folders
// held a temporary file, so one left in the manifest folder or a manifest
// backup folder stayed until the next command that writes (TestKillWriters).
// Read now sees them, recovers, and removes them.
func TestReadRemovesManifestTempFiles(t *testing.T) {
	for _, where := range []string{"manifests", filepath.Join("tmp", "certctl-backup-manifests-2026-12-05-15-00-00")} {
		t.Run(where, func(t *testing.T) {
			root := t.TempDir()
			certDir := filepath.Join(root, "pki")
			for _, d := range []string{certDir, filepath.Join(root, where)} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			left := filepath.Join(root, where, ".kube-controller-manager.yaml.tmp-123")
			if err := os.WriteFile(left, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			var errOut bytes.Buffer
			if err := Read(context.Background(), &errOut, certDir, []string{root}, func() error { return nil }); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(left); !os.IsNotExist(err) {
				t.Errorf("%s is still there after a read (err %v)", left, err)
			}
			if !strings.Contains(errOut.String(), "[recover] removed "+left) {
				t.Errorf("the read does not say it removed %s:\n%s", left, errOut.String())
			}
		})
	}
	// A file where the manifest folder would be does not stop a read.
	root := t.TempDir()
	certDir := filepath.Join(root, "pki")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "manifests"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Read(context.Background(), &bytes.Buffer{}, certDir, []string{root}, func() error { return nil }); err != nil {
		t.Fatalf("Read with a file named manifests beside %s: %v", certDir, err)
	}
}
