package certdir

import (
	"cmp"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCheckPrivate: a folder certctl keeps beside the certificates is
// refused when another user may write it, and accepted when only root or
// the user running certctl may.
func TestCheckPrivate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mode  os.FileMode
		owner int // -1: as made
		want  string
	}{
		{"0700", 0o700, -1, ""},
		{"0755", 0o755, -1, ""},
		{"0777", 0o777, -1, "chmod 700"},
		{"0770", 0o770, -1, "chmod 700"},
		{"0702", 0o702, -1, "chmod 700"},
		{"another user's", 0o700, 65534, "owned by uid 65534"},
		{"missing", 0, -1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			if tc.mode != 0 {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dir, tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			if tc.owner >= 0 {
				if os.Geteuid() != 0 {
					t.Skip("chown needs root")
				}
				if err := os.Chown(dir, tc.owner, tc.owner); err != nil {
					t.Fatal(err)
				}
			}
			err := CheckPrivate(dir, "test folder", "files")
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir)) {
				t.Errorf("CheckPrivate = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestCheckPrivateAdviceAsRoot: only a folder's owner or root may chmod or
// chown it. A user who is neither (uid 1001 on a folder of uid 65534, or
// on root's folder that others may write) is told to do it as root, not
// to run a chown or chmod that fails for them; root and the owner are not.
func TestCheckPrivateAdviceAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	for _, tc := range []struct {
		name        string
		mode        os.FileMode
		owner, euid int
		want        string // "": no "as root"
	}{
		{"another user's, for a third user", 0o700, 65534, 1001, "as root, run chown 1001"},
		{"root's, writable by others, for a user", 0o777, 0, 1001, "as root, run chmod 700"},
		{"another user's, for root", 0o700, 65534, 0, ""},
		{"the user's own, writable by others", 0o777, 1001, 1001, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(dir, tc.owner, tc.owner); err != nil {
				t.Fatal(err)
			}
			err := checkPrivate(dir, "test folder", "files", tc.euid)
			if err == nil {
				t.Fatal("checkPrivate accepted the folder")
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) || tc.want == "" && strings.Contains(err.Error(), "as root") {
				t.Errorf("checkPrivate = %v, want %q", err, cmp.Or(tc.want, "no \"as root\""))
			}
		})
	}
}

// TestCheckPrivateNotAFolder: a file, a FIFO or a loop of symbolic links
// where certctl keeps a folder (.certctl-txn, certctl-backups) failed
// every command that writes, and check-expiration's recovery, with only
// "read transaction folder DIR: open DIR: not a directory" (or "too many
// levels of symbolic links"), which did not say what to do. It is now
// named, with what to do.
func TestCheckPrivateNotAFolder(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T, p string)
		want string
	}{
		{"file", func(t *testing.T, p string) {
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is a file, not a folder: move it away (mv "},
		{"fifo", func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is a FIFO, not a folder: move it away (mv "},
		{"link loop", func(t *testing.T, p string) {
			if err := os.Symlink(filepath.Base(p), p); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link that leads back to itself (a loop of symbolic links), not a folder: remove it (rm "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), ".certctl-txn")
			tc.make(t, dir)
			err := CheckPrivate(dir, "transaction folder", "files")
			if err == nil || !strings.Contains(err.Error(), "transaction folder "+dir+" "+tc.want) || !strings.Contains(err.Error(), "then run certctl again") {
				t.Errorf("CheckPrivate = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestCheckPrivateInsideAFile: a folder given below a file (a CSR folder
// --csr-dir /root/notes.txt/csr) failed with "check CSR folder DIR: stat
// DIR: not a directory", naming neither the file nor what to do.
func TestCheckPrivateInsideAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "csr", "etcd")
	err := CheckPrivate(dir, "CSR folder", "files")
	want := "CSR folder " + dir + " is inside " + file + ", which is a file, not a folder: pass another folder, or correct " + file
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("CheckPrivate = %v, want %q", err, want)
	}
}
