package node

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/lock"
)

// TestLinkedCertDirSharesTheLock: a certificate folder reached through a
// symbolic link (/etc/kubernetes/pki -> /data/pki, common on nodes with a
// data disk) is guarded by the lock beside the folder the link points to
// too, so that a command given --cert-dir /data/pki and one given
// /etc/kubernetes/pki never write it at the same time: each took only the
// lock beside the path it was given, two different files. A parent that is
// the same folder under two names is locked once, not twice (which would
// wait for itself).
func TestLinkedCertDirSharesTheLock(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"etc", "data/pki", "real/k/pki"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// /etc/pki -> /data/pki: the folder itself is a link.
	if err := os.Symlink(filepath.Join(root, "data", "pki"), filepath.Join(root, "etc", "pki")); err != nil {
		t.Fatal(err)
	}
	// /k -> /real/k: its parent is a link, the lock is the same file.
	if err := os.Symlink(filepath.Join(root, "real", "k"), filepath.Join(root, "k")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, certDir, heldBeside string // heldBeside "": nothing held
		wantHeld                  bool
	}{
		{"link, real folder's lock held", filepath.Join(root, "etc", "pki"), filepath.Join(root, "data", "pki"), true},
		{"link, its own lock held", filepath.Join(root, "etc", "pki"), filepath.Join(root, "etc", "pki"), true},
		{"link, nothing held", filepath.Join(root, "etc", "pki"), "", false},
		{"real folder, its lock held", filepath.Join(root, "data", "pki"), filepath.Join(root, "data", "pki"), true},
		{"linked parent, nothing held", filepath.Join(root, "k", "pki"), "", false},
		{"linked parent, real parent's lock held", filepath.Join(root, "k", "pki"), filepath.Join(root, "real", "k", "pki"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.heldBeside != "" {
				path, err := lock.Beside(tc.heldBeside)
				if err != nil {
					t.Fatal(err)
				}
				held, err := lock.AcquireWait(context.Background(), path, lock.Wait{})
				if err != nil {
					t.Fatal(err)
				}
				defer held.Release()
			}
			release, err := Lock(context.Background(), io.Discard, tc.certDir, 0)
			var heldErr *lock.HeldError
			switch {
			case tc.wantHeld && !errors.As(err, &heldErr):
				release()
				t.Fatalf("Lock(%s) = %v, want it to find the lock held", tc.certDir, err)
			case !tc.wantHeld && err != nil:
				t.Fatalf("Lock(%s): %v", tc.certDir, err)
			case !tc.wantHeld:
				release()
			}
			if heldErr != nil && !strings.Contains(err.Error(), heldErr.Path) {
				t.Errorf("error %q does not name the lock file", err)
			}
		})
	}
}

// TestLinkedLockNotTakenTwice: a command that holds the locks of a linked
// certificate folder (/etc/pki -> /data/pki: /etc/.certctl.lock and
// /data/.certctl.lock) and then locks another folder of /data (renew
// --restart-control-plane --manifest-dir /data/manifests, or --csr-dir
// /data/csr) does not wait for itself: flock locks an open file, and the
// second open of /data/.certctl.lock found it held.
func TestLinkedLockNotTakenTwice(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"etc", "data/pki", "data/manifests", "data/csr"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	certDir := filepath.Join(root, "etc", "pki")
	if err := os.Symlink(filepath.Join(root, "data", "pki"), certDir); err != nil {
		t.Fatal(err)
	}
	release, err := Lock(context.Background(), io.Discard, certDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	releaseManifests, err := LockOnly(context.Background(), filepath.Join(root, "data", "manifests"), 0)
	if err != nil {
		t.Fatalf("LockOnly of the manifest folder beside the real certificate folder: %v", err)
	}
	releaseCSR, err := LockCSR(context.Background(), io.Discard, filepath.Join(root, "data", "csr"), 0, certDir)
	if err != nil {
		t.Fatalf("LockCSR of the CSR folder beside the real certificate folder: %v", err)
	}
	releaseCSR()
	releaseManifests()
	// Still held by the command's own Lock, until it releases it.
	path := filepath.Join(root, "data", lock.FileName)
	if l, err := lock.AcquireWait(context.Background(), path, lock.Wait{}); err == nil {
		l.Release()
		t.Fatalf("%s was released before the command released its lock", path)
	}
	release()
	l, err := lock.AcquireWait(context.Background(), path, lock.Wait{})
	if err != nil {
		t.Fatalf("after the release: %v", err)
	}
	l.Release()
}
