package treetest

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Unmount unmounts what a test mounted on dir, as its cleanup. A mount
// is busy while any process has a file or folder open below it, which
// another package's test walking /tmp may have for a moment (`go test
// ./...` runs packages side by side): Unmount tries again for a second,
// then detaches it (MNT_DETACH), so that no test leaves a mount behind on
// the machine, and the temporary folder can be removed.
func Unmount(t testing.TB, dir string) {
	t.Helper()
	err := unix.Unmount(dir, 0)
	for deadline := time.Now().Add(time.Second); errors.Is(err, unix.EBUSY) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		err = unix.Unmount(dir, 0)
	}
	if errors.Is(err, unix.EBUSY) {
		t.Logf("unmount %s: busy for a second: detaching it", dir)
		err = unix.Unmount(dir, unix.MNT_DETACH)
	}
	if err != nil {
		t.Errorf("unmount %s: %v", dir, err)
	}
}
