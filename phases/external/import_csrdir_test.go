package external

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestImportCSRDirSaysWhatToGive: a --csr-dir that does not exist, or is
// a file, names it and says which folder --csr-dir wants.
func TestImportCSRDirSaysWhatToGive(t *testing.T) {
	n := newExtNode(t)
	file := filepath.Join(t.TempDir(), "csr")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, dir, want string
	}{
		{"missing", filepath.Join(t.TempDir(), "nope"), "no such file"},
		{"a file", file, file + " is not a folder"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := n.importOptions()
			o.CSRDir = tt.dir
			_, err := Import(context.Background(), o)
			treetest.ErrMentions(t, err, tt.dir, tt.want, "give --csr-dir the folder that `certctl init-phase ... --use-csr` or `certctl renew --use-csr` wrote")
		})
	}
}
