// Package certdir places what certctl keeps beside the certificate folder,
// in its parent (/etc/kubernetes for /etc/kubernetes/pki): the lock
// (internal/lock), the transactions being written (internal/txn), the
// backups (renewal), the restarts still owed (staticpods) and the pending
// keys of `renew --use-api` (PendingKeys). Beside the
// folder rather than in it, so that nothing certctl adds is mistaken for a
// certificate, and on the same file system, so that renames stay atomic.
// certctl-backups and .certctl-pending may be symbolic links to a folder on
// another disk, which certctl accepts (the transactions then stage beside
// each file): only root can put a link there, and the folder it leads to
// is checked as the folder itself is (CheckPrivate), and the folders above
// it too (CheckLinkedParents).
package certdir

import (
	"fmt"
	"path/filepath"
)

// Beside returns the path of name in certDir's parent, certDir made
// absolute first.
func Beside(certDir, name string) (string, error) {
	abs, err := filepath.Abs(certDir)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", certDir, err)
	}
	return filepath.Join(filepath.Dir(abs), name), nil
}

// PendingKeys is the folder beside the certificate folder that keeps the
// private key of each `renew --use-api` CSR whose certificate is not
// installed yet (phases/renewal/apirenew). The install's transaction
// removes them, so recovery must reach it.
const PendingKeys = ".certctl-pending"
