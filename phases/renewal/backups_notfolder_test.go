package renewal

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestListBackupsNotAFolder: a file where certctl-backups belongs is named
// with what to do when the backups are listed (`certctl restore` with no
// name), as every command that writes names it; the list said only "read
// backup folder ...: not a directory".
func TestListBackupsNotAFolder(t *testing.T) {
	root := filepath.Join(t.TempDir(), "certctl-backups")
	if err := os.WriteFile(root, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ListBackups(root)
	treetest.ErrMentions(t, err, root, "is a file, not a folder", "mv "+root)
}
