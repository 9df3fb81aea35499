package node

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"
)

func TestWithPermissionHint(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: "/etc/kubernetes/.certctl.lock", Err: syscall.EACCES}, "run certctl as root, or fix the permissions"},
		{&fs.PathError{Op: "open", Path: "/etc/kubernetes/.certctl.lock", Err: syscall.EROFS}, "remount the file system read-write (--dry-run writes nothing)"},
		{errors.New("other"), "other"},
	} {
		if got := WithPermissionHint(tt.err).Error(); !strings.HasSuffix(got, tt.want) {
			t.Errorf("WithPermissionHint(%v) = %q, want it to end with %q", tt.err, got, tt.want)
		}
	}
}
