package filekind

import (
	"io/fs"
	"testing"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode fs.FileMode
		want string
	}{
		{"fifo", fs.ModeNamedPipe | 0o600, "FIFO"},
		{"socket", fs.ModeSocket | 0o755, "socket"},
		{"block device", fs.ModeDevice | 0o660, "device"},
		{"character device", fs.ModeDevice | fs.ModeCharDevice | 0o666, "device"},
		{"folder", fs.ModeDir | 0o700, "folder"},
		{"symbolic link", fs.ModeSymlink | 0o777, "special file"},
		{"irregular", fs.ModeIrregular, "special file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Of(tc.mode); got != tc.want {
				t.Errorf("Of(%v) = %q, want %q", tc.mode, got, tc.want)
			}
		})
	}
}
