package txn

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestApplying: a transaction is being applied from its commit mark until
// its folder is renamed as finished; not while it is staged, nor when
// there is none.
func TestApplying(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T, root, dir string)
		want bool
	}{
		{"no root", func(t *testing.T, root, dir string) { os.RemoveAll(root) }, false},
		{"staged", func(t *testing.T, root, dir string) {}, false},
		{"committed", func(t *testing.T, root, dir string) {
			if err := os.WriteFile(filepath.Join(dir, manifestName), []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"finished", func(t *testing.T, root, dir string) {
			if err := os.WriteFile(filepath.Join(dir, manifestName), []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(dir, dir+finishedSuffix); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), DirName)
			tx, err := Begin(root, "20260301T120000Z-0badcafe", time.Unix(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			tc.make(t, root, tx.dir)
			if got := Applying(root); got != tc.want {
				t.Errorf("Applying = %v, want %v", got, tc.want)
			}
		})
	}
}
