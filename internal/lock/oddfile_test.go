package lock

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLockFileNotRegular: a lock file that is a symbolic link, a FIFO or
// a folder is refused, naming it and saying to remove it, and nothing is
// written through it. Taking the lock truncated the file a link pointed
// to, in any folder, and wrote the holder's record into it; a dangling
// link created its target. A FIFO must not block.
func TestLockFileNotRegular(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T, lockPath, other string)
		want string
	}{
		{"link to a file elsewhere", func(t *testing.T, p, other string) {
			if err := os.WriteFile(filepath.Join(other, "victim"), []byte("precious\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(other, "victim"), p); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link to "},
		{"dangling link", func(t *testing.T, p, other string) {
			if err := os.Symlink(filepath.Join(other, "none"), p); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link to "},
		{"fifo", func(t *testing.T, p, other string) {
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is a FIFO, not a regular file"},
		{"folder", func(t *testing.T, p, other string) {
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "is a folder, not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, other := t.TempDir(), t.TempDir()
			p := filepath.Join(dir, FileName)
			tc.make(t, p, other)
			done := make(chan error, 1)
			go func() {
				l, err := AcquireWait(context.Background(), p, Wait{})
				l.Release()
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("AcquireWait blocked")
			}
			if err == nil || !strings.Contains(err.Error(), p+" "+tc.want) || !strings.Contains(err.Error(), "remove it") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line naming %s, %q and saying to remove it", err, p, tc.want)
			}
			if b, _ := os.ReadFile(filepath.Join(other, "victim")); tc.name == "link to a file elsewhere" && string(b) != "precious\n" {
				t.Errorf("the file the link points to now holds %q", b)
			}
			if _, err := os.Lstat(filepath.Join(other, "none")); err == nil {
				t.Error("the dangling link's target was created")
			}
		})
	}
}

// TestLockFileMadePrivate: a lock file that other users may open (flock(1)
// makes a missing one 0644) lets any of them take the lock and keep it,
// every certctl waiting for them until it gives up. Taking the lock makes
// it 0600 again, as certctl creates it.
func TestLockFileMadePrivate(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o666, 0o640, 0o604, 0o600} {
		p := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		l, err := AcquireWait(context.Background(), p, Wait{})
		if err != nil {
			t.Fatal(err)
		}
		l.Release()
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("lock file of mode %04o: after the lock, %v, %v; want mode 0600", mode, st.Mode().Perm(), err)
		}
	}
}
