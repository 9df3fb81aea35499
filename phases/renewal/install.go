package renewal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/certctl/certctl/internal/txn"
)

// Install is the install path of Restore, `certctl certs import` and a CA
// rotation stage that re-issues nothing; Renew makes the same backup
// (newBackup) and transaction (txn.WriteAll) itself, because it plans them
// in its check pass and stages the new files in its real pass. It backs
// up the existing files replaced (each of certDir or kubeconfigDir; none
// when replaced is empty) into a new folder of BackupRoot(certDir), in the
// layout and with the backup.json that `certctl restore` reads, and
// writes files, in one transaction (internal/txn): a run killed at any
// instant leaves all old files or all new ones. It returns the backup
// folder, "" when it made none. certDir and kubeconfigDir are absolute:
// every caller resolved them already. The caller holds certctl's lock and
// has run txn.RecoverIn.
func Install(certDir, kubeconfigDir, kind string, now time.Time, rand io.Reader, replaced []string, files []txn.File, note BackupNote) (string, error) {
	old := make([]*oldFile, 0, len(replaced))
	for _, p := range replaced {
		f, err := readOld(p)
		if err != nil {
			return "", fmt.Errorf("back up %s: %w", p, err)
		}
		old = append(old, f)
	}
	return install(certDir, kubeconfigDir, kind, now, rand, old, files, note)
}

// install is Install with the replaced files read already (Restore reads
// them to compare).
func install(certDir, kubeconfigDir, kind string, now time.Time, rand io.Reader, old []*oldFile, files []txn.File, note BackupNote) (string, error) {
	dir, backup, err := newBackup(certDir, kubeconfigDir, now, old, note)
	if err != nil {
		return "", err
	}
	if err := txn.WriteAllKind(certDir, kind, now, rand, append(backup, files...)); err != nil {
		return "", err
	}
	return dir, nil
}

// Placed is a file that puts a certificate or its key in force.
type Placed struct {
	txn.File
	// Exists says a file is there already, to back up; Same, with
	// exactly this content.
	Exists, Same bool
}

// Place returns the files that put certPEM (the leaf, then any
// intermediates) and its key keyPEM in force as t (see slot.place), for
// `certctl certs import`: each with the mode and owner of the file it
// replaces, else mode, and one that holds a private key readable by its
// owner only. A kubeconfig that does not exist yet starts from the one at
// base (the CSR folder's, which says where the cluster is); caPEM becomes
// its CA data. It refuses what Install cannot replace (see readOld).
func (t Target) Place(certDir, kubeconfigDir string, certPEM, keyPEM, caPEM []byte, base string) ([]Placed, error) {
	return slotOf(t, certDir, kubeconfigDir).place(certPEM, keyPEM, caPEM, base)
}

// placing is the file that writes data at path: with the mode and owner
// of the file there, else with mode. A file that holds a private key (mode
// gives group and others nothing: the key file, a kubeconfig) is written
// readable by its owner only, as renewal writes it.
func placing(path string, data []byte, mode fs.FileMode) (Placed, error) {
	old, err := readOld(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Placed{File: txn.File{Target: path, Data: data, Mode: mode, UID: -1, GID: -1}}, nil
	}
	if err != nil {
		return Placed{}, err
	}
	f := like(old, data)
	if mode&0o077 == 0 {
		f = private(f)
	}
	return Placed{File: f, Exists: true, Same: bytes.Equal(old.data, data)}, nil
}

// Replacing is the file that writes data at path as placing writes it,
// for writers outside renewal that commit in their own transaction (CA
// rotation).
func Replacing(path string, data []byte, mode fs.FileMode) (txn.File, error) {
	p, err := placing(path, data, mode)
	return p.File, err
}
