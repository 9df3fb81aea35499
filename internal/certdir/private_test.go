package certdir

import (
	"os"
	"path/filepath"
	"strings"
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
