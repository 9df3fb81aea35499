package node

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckFoldersNamesTheFlag: a file given where a folder belongs is
// named with the flag that gave it; the manifest folder (ca rotate passes
// it after the kubeconfig folder) was called --kubeconfig-dir.
func TestCheckFoldersNamesTheFlag(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A pki/etcd that is a file: recovery said only "read directory
	// .../etcd: open .../etcd: not a directory".
	etcdFile := filepath.Join(t.TempDir(), "pki")
	if err := os.MkdirAll(etcdFile, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etcdFile, "etcd"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Links to a volume that is not mounted: "the certificate folder
	// does not exist", or "etcd/ca.crt does not exist: restore it from a
	// backup", or "mkdir DIR: file exists".
	linked := t.TempDir()
	unmounted := filepath.Join(linked, "data", "pki")
	danglingPKI := filepath.Join(linked, "pki")
	if err := os.Symlink(unmounted, danglingPKI); err != nil {
		t.Fatal(err)
	}
	danglingEtcd := filepath.Join(linked, "etc", "pki")
	if err := os.MkdirAll(danglingEtcd, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(linked, "data", "etcd"), filepath.Join(danglingEtcd, "etcd")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		certDir        string
		kubeconfigDirs []string
		want           string
	}{
		{"cert-dir", file, []string{dir}, "--cert-dir " + file + " is a file, not a folder: pass the folder that holds the files (kubeadm's is /etc/kubernetes/pki)"},
		{"kubeconfig-dir", dir, []string{file}, "--kubeconfig-dir " + file + " is a file, not a folder: pass the folder that holds the files (kubeadm's is /etc/kubernetes)"},
		{"manifest-dir", dir, []string{dir, file}, "--manifest-dir " + file + " is a file, not a folder: pass the folder that holds the files (kubeadm's is /etc/kubernetes/manifests)"},
		{"etcd file", etcdFile, []string{dir}, filepath.Join(etcdFile, "etcd") + " is a file, not a folder: move it away; kubeadm keeps etcd's certificates in the folder etcd of --cert-dir " + etcdFile},
		{"cert-dir dangling link", danglingPKI, []string{dir}, "--cert-dir " + danglingPKI + " is a symbolic link to " + unmounted + ", which does not exist: mount the volume that holds it, or correct the link"},
		{"kubeconfig-dir dangling link", dir, []string{danglingPKI}, "--kubeconfig-dir " + danglingPKI + " is a symbolic link to " + unmounted + ", which does not exist: mount the volume that holds it, or correct the link"},
		{"etcd dangling link", danglingEtcd, []string{dir}, filepath.Join(danglingEtcd, "etcd") + " is a symbolic link to " + filepath.Join(linked, "data", "etcd") + ", which does not exist: mount the volume that holds it, or correct the link"},
		// A path through a file: "open lock file DIR/.certctl.lock: not a
		// directory", "lstat DIR/.certctl-txn: not a directory".
		{"cert-dir inside a file", filepath.Join(file, "pki"), []string{dir}, "--cert-dir " + filepath.Join(file, "pki") + " is inside " + file + ", which is a file, not a folder: pass the folder that holds the files (kubeadm's is /etc/kubernetes/pki)"},
		{"kubeconfig-dir inside a file", dir, []string{filepath.Join(file, "a", "b")}, "--kubeconfig-dir " + filepath.Join(file, "a", "b") + " is inside " + file + ", which is a file, not a folder"},
		{"folders", dir, []string{dir, dir}, ""},
		{"missing", filepath.Join(dir, "none"), []string{filepath.Join(dir, "none")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkFolders(tc.certDir, tc.kubeconfigDirs)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestCheckFoldersNamesALinkLoop: a certificate, kubeconfig or etcd folder
// that is a symbolic link leading back to itself failed every command with
// "open DIR: too many levels of symbolic links" (renew, check-expiration)
// or "read directory DIR: ..." (the kubeconfig folder, restore), naming
// neither the flag nor what to correct.
func TestCheckFoldersNamesALinkLoop(t *testing.T) {
	dir := t.TempDir()
	loop := filepath.Join(dir, "pki")
	if err := os.Symlink("pki", loop); err != nil {
		t.Fatal(err)
	}
	// Two links that point at each other.
	certDir := filepath.Join(t.TempDir(), "pki")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	etcd, other := filepath.Join(certDir, "etcd"), filepath.Join(certDir, "etcd2")
	if err := os.Symlink("etcd2", etcd); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("etcd", other); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		certDir        string
		kubeconfigDirs []string
		want           string
	}{
		{"cert-dir", loop, []string{dir}, "--cert-dir " + loop + " is a symbolic link to pki, which leads back to itself (a loop of symbolic links): correct the link (ls -l " + loop + ")"},
		{"kubeconfig-dir", dir + "/none", []string{loop}, "--kubeconfig-dir " + loop + " is a symbolic link to pki, which leads back to itself"},
		{"etcd", certDir, []string{dir}, etcd + " is a symbolic link to etcd2, which leads back to itself"},
		// A parent in a loop: it was "lock file DIR/.certctl.lock is a
		// symbolic link to : ... remove it", a file that does not exist.
		{"cert-dir below a loop", filepath.Join(loop, "pki"), []string{dir}, loop + " is a symbolic link to pki, which leads back to itself (a loop of symbolic links): correct the link (ls -l " + loop + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkFolders(tc.certDir, tc.kubeconfigDirs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestLockDanglingParent: a certificate or CSR folder whose parent is a
// symbolic link to nothing (/etc/kubernetes on a data volume that is not
// mounted) failed init-phase, and every command that writes, with "its
// folder was removed three times while certctl made it and took the
// lock: run certctl again once the other certctl commands have
// finished", which sent the user after other certctl commands. The link
// is now named, with what to do, and nothing is made.
func TestLockDanglingParent(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, certDir, link, target string
	}{
		{"parent", filepath.Join(dir, "k8s", "pki"), filepath.Join(dir, "k8s"), filepath.Join(dir, "data")},
		{"grandparent", filepath.Join(dir, "vol", "kubernetes", "pki"), filepath.Join(dir, "vol"), filepath.Join(dir, "mnt")},
		{"loop", filepath.Join(dir, "loop", "pki"), filepath.Join(dir, "loop"), "loop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Symlink(tc.target, tc.link); err != nil {
				t.Fatal(err)
			}
			for name, lock := range map[string]func() error{
				"Lock": func() error {
					_, err := Lock(context.Background(), io.Discard, tc.certDir, 0, filepath.Join(dir, "kc"))
					return err
				},
				"LockOnly": func() error {
					_, err := LockOnly(context.Background(), tc.certDir, 0)
					return err
				},
			} {
				err := lock()
				if err == nil || !strings.HasPrefix(err.Error(), tc.link+" is a symbolic link to "+tc.target+", which") || strings.Contains(err.Error(), "three times") {
					t.Errorf("%s: %v; want the link %s named", name, err, tc.link)
				}
			}
			if _, err := os.Stat(tc.target); err == nil {
				t.Errorf("%s was made", tc.target)
			}
		})
	}
}
