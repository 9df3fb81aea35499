package renewal

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/certctl/certctl/internal/txn"
)

// BackupFiles returns the files that save paths, each an existing file of
// certDir or kubeconfigDir, into a new backup folder of root (see
// BackupRoot), in the layout and with the backup.json that Renew writes,
// so that `certctl restore` can restore it. Add them to the transaction
// that replaces the files; backup.json is last. It is for the commands that
// install certificates made elsewhere (`certctl certs import`). The caller
// holds certctl's lock.
func BackupFiles(root string, now time.Time, certDir, kubeconfigDir string, paths []string) (dir string, files []txn.File, err error) {
	if certDir, err = filepath.Abs(certDir); err != nil {
		return "", nil, fmt.Errorf("resolve %s: %w", certDir, err)
	}
	if kubeconfigDir, err = filepath.Abs(kubeconfigDir); err != nil {
		return "", nil, fmt.Errorf("resolve %s: %w", kubeconfigDir, err)
	}
	old := make([]*oldFile, 0, len(paths))
	for _, p := range paths {
		f, err := readOld(p)
		if err != nil {
			return "", nil, fmt.Errorf("back up %s: %w", p, err)
		}
		old = append(old, f)
	}
	b, err := newBackup(root, now, certDir, kubeconfigDir, old)
	if err != nil {
		return "", nil, err
	}
	return b.dir, b.files, nil
}
