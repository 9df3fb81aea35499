package e2e

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// installs records, through inotify, the instant of each rename of a
// certificate, key or kubeconfig (NAME.crt, NAME.key, NAME.conf) into
// one of dirs, as certctl's transaction installs them, until the test
// ends.
type installs struct {
	mu   sync.Mutex
	last time.Time
	n    int
}

func watchInstalls(t *testing.T, dirs ...string) *installs {
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
	in := &installs{}
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
				name := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)], "\x00"))
				if !strings.HasPrefix(name, ".") && (strings.HasSuffix(name, ".crt") || strings.HasSuffix(name, ".key") || strings.HasSuffix(name, ".conf")) {
					in.mu.Lock()
					in.last, in.n = now, in.n+1
					in.mu.Unlock()
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}()
	return in
}

// settle waits until no file has been installed for a second and
// returns how many were and the instant of the last.
func (in *installs) settle() (int, time.Time) {
	for {
		in.mu.Lock()
		n, last := in.n, in.last
		in.mu.Unlock()
		time.Sleep(time.Second)
		in.mu.Lock()
		same := in.n == n
		in.mu.Unlock()
		if same {
			return n, last
		}
	}
}
