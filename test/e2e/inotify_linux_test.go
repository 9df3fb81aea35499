package e2e

import (
	"bytes"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// watchRename returns a channel that receives the instant a file named
// name is renamed into dir (as certctl's transaction installs a file),
// seen through inotify. The watch ends after the first such rename or when
// the test ends.
func watchRename(t *testing.T, dir, name string) <-chan time.Time {
	t.Helper()
	ch := make(chan time.Time, 1)
	watchMoves(t, func(moved string, at time.Time) bool {
		if moved != name {
			return false
		}
		ch <- at
		return true
	}, dir)
	return ch
}

// watchMoves calls seen, through inotify, with the name of each file
// renamed into one of dirs and the instant it was read, until seen returns
// true or the test ends.
func watchMoves(t *testing.T, seen func(name string, at time.Time) (done bool), dirs ...string) {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	for _, d := range dirs {
		if _, err := unix.InotifyAddWatch(fd, d, unix.IN_MOVED_TO); err != nil {
			unix.Close(fd)
			t.Fatalf("inotify watch %s: %v", d, err)
		}
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		defer unix.Close(fd)
		buf := make([]byte, 64<<10)
		for {
			select {
			case <-stop:
				return
			default:
			}
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			if n, err := unix.Poll(fds, 100); err != nil && err != unix.EINTR || n <= 0 {
				continue
			}
			n, err := unix.Read(fd, buf)
			now := time.Now()
			if err != nil {
				continue
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				raw := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				if seen(string(bytes.TrimRight(raw, "\x00")), now) {
					return
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}()
}
