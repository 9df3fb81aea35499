package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/filekind"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/pki"
)

// BackupDir is where Replace keeps the manifests it replaces when the caller
// names no folder: DIR/../tmp/certctl-backup-manifests-TIME, next to
// kubeadm's own kubeadm-backup-manifests-* folders. A backup must not stay in
// the manifest folder: the kubelet would run it as a second static pod.
func BackupDir(manifestPath string, now time.Time) string {
	return filepath.Join(BackupParent(filepath.Dir(filepath.Clean(manifestPath))), backupDirPrefix+now.UTC().Format(backupDirTime))
}

// BackupParent is the folder of the manifest backups of manifestDir
// (BackupDir): tmp/ beside it, which kubeadm's backups share.
func BackupParent(manifestDir string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(manifestDir)), "tmp")
}

// CheckBackupParent refuses, before anything is written, a BackupParent of
// manifestDir that is there but is not a folder (a file, a FIFO, a link
// that leads back to itself): each restart copies the manifest into it
// first, so every restart failed after the renewal or restore had
// committed ("check backup folder DIR/certctl-backup-manifests-TIME: stat
// ...: not a directory"), run after run, saying nothing to do.
func CheckBackupParent(manifestDir string) error {
	tmp := BackupParent(manifestDir)
	st, err := os.Stat(tmp)
	switch {
	case errors.Is(err, syscall.ELOOP):
		return fmt.Errorf("the folder of the manifests' backups %s is a symbolic link that leads back to itself (a loop of symbolic links): each restart saves the manifest it changes there first; remove the link (rm %s), then run certctl again; nothing was changed", tmp, tmp)
	case err != nil || st.IsDir():
		return nil // missing: made when needed; unreadable: said where it is used
	}
	return fmt.Errorf("the folder of the manifests' backups %s is a %s, not a folder: each restart saves the manifest it changes there first, as kubeadm does its own; move it away (mv %s %s.moved), then run certctl again; nothing was changed", tmp, filekind.Of(st.Mode()), tmp, tmp)
}

const (
	backupDirPrefix = "certctl-backup-manifests-"
	backupDirTime   = "2006-01-02-15-04-05"
)

// PruneBackupDirs removes the oldest of certctl's manifest backup folders
// beside manifestDir (BackupDir) so that keep of them remain, and returns
// those it removed, oldest first; keep <= 0 keeps all. Each restart of a
// daily run makes one, also each retry of a restart owed: never pruned,
// they grew by one a day while a component stayed down, and every certctl
// command reads each (TempDirs).
//
// Only folders named as BackupDir names them count, newest by the time in
// their names: kubeadm's kubeadm-backup-manifests-*, which kubeadm keeps,
// and anything else in tmp/ are not certctl's. One named at or after since,
// the start of the calling run, and not after now (the clock's reading at
// the prune) is never removed: it is that run's, or another's that took
// the lock while this one waited. One named after now was made while the
// clock was ahead, before it was set back: its name does not say how old
// it is, so it is not counted among the keep newest but removed first;
// kept as the newest, it was never removed while the clock stayed behind
// its name, and with keep of them every true backup but the run's own
// was removed at each run. A folder is renamed to a
// dot-name before it is removed, so that an interrupted prune leaves no
// half backup under certctl's name; the next prune removes it, as it
// removes one whose removal failed (left, atomicfile.RemoveDirs). The
// caller holds certctl's lock, which guards tmp/ too.
func PruneBackupDirs(manifestDir string, keep int, since, now time.Time) ([]string, []atomicfile.LeftDir, error) {
	if keep <= 0 {
		return nil, nil, nil
	}
	tmp := BackupParent(manifestDir)
	entries, err := os.ReadDir(tmp)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read manifest backup folder %s: %w", tmp, err)
	}
	var ahead, old []string // certctl's, oldest first (ReadDir sorts by name)
	kept := 0
	for _, e := range entries {
		at, err := time.Parse(backupDirTime, strings.TrimPrefix(e.Name(), backupDirPrefix))
		switch {
		case !e.IsDir() || !strings.HasPrefix(e.Name(), backupDirPrefix) || err != nil:
		case at.After(now.UTC()):
			ahead = append(ahead, e.Name())
		case !at.Before(since.UTC().Truncate(time.Second)):
			kept++
		default:
			old = append(old, e.Name())
		}
	}
	old = append(ahead, old...) // removed first
	// Renamed first (atomicfile.RemoveDirs): an interrupted prune leaves
	// no half backup under certctl's name; the next prune removes it.
	return atomicfile.RemoveDirs(tmp, old[:max(0, len(old)-max(0, keep-kept))], backupDirPrefix, "manifest backup")
}

// TempDirs are the folders where a Replace of a manifest in manifestDir,
// killed part way, leaves its dot-named temporary file: manifestDir and
// certctl's backup folders of every time beside it (BackupDir). The kubelet
// ignores those files, but nothing else would ever remove them.
func TempDirs(manifestDir string) []string {
	dirs, _ := filepath.Glob(filepath.Join(BackupParent(manifestDir), backupDirPrefix+"*"))
	if fi, err := os.Stat(manifestDir); err == nil && fi.IsDir() {
		dirs = append([]string{filepath.Clean(manifestDir)}, dirs...)
	}
	return dirs
}

// Replace atomically replaces the manifest at path, whose content was read
// as old, with data, after copying old into backupDir under the same base
// name (or NAME-2.yaml, ... when an earlier backup there holds another
// content: see backupPath). The file keeps its mode. If the file no longer holds old (someone
// changed it since it was read), nothing is written. It returns the backup's
// path.
//
// The new content goes to a dot-named temporary file in the same folder
// first (internal/atomicfile): the kubelet ignores dot-files in its manifest
// folder, so it never starts a half-written pod.
//
// A manifest that is a symbolic link is refused before anything is written
// (txn.Replaceable, as for certificates and the manifest edits of a CA
// rotation): the rename would replace the link by a file and leave the file
// it points to, the one its owner edits, as it was.
func Replace(path string, old, data []byte, backupDir string) (string, error) {
	if _, err := txn.Replaceable(path); err != nil {
		return "", err
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("stat manifest %s: %w", path, err)
	}
	now, err := pki.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read manifest %s: %w", path, err)
	}
	if !bytes.Equal(now, old) {
		return "", fmt.Errorf("manifest %s changed while certctl was working on it; nothing written, run the command again", path)
	}
	if same, err := sameDir(backupDir, filepath.Dir(path)); err != nil {
		return "", err
	} else if same {
		return "", fmt.Errorf("backup folder %s is the manifest folder: the kubelet would run the backup as a static pod; choose another folder", backupDir)
	}
	if err := os.MkdirAll(backupDir, 0o700); err != nil {
		return "", fmt.Errorf("create backup folder %s: %w", backupDir, err)
	}
	backup, err := writeBackup(backupDir, filepath.Base(path), old, st.Mode().Perm())
	if err != nil {
		return "", fmt.Errorf("back up manifest %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, data, st.Mode().Perm()); err != nil {
		return "", fmt.Errorf("write manifest %s: %w; the old one is in %s", path, err, backup)
	}
	return backup, nil
}

// writeBackup writes old, a manifest named base, into dir, and returns
// its path: base itself, unless an earlier edit in the same second (the
// default folder is named after it) or with the same --backup-dir left
// another content there, which must not be overwritten: the earlier run
// printed that path as where its old manifest is. The next free name is
// then NAME-2.yaml, NAME-3.yaml, ... A backup there that already holds old
// (a re-run) is used as it is. Each name is created, never replaced
// (atomicfile.Create), so two runs at once cannot take the same one.
func writeBackup(dir, base string, old []byte, perm fs.FileMode) (string, error) {
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	for i := 1; ; i++ {
		path := filepath.Join(dir, base)
		if i > 1 {
			path = filepath.Join(dir, fmt.Sprintf("%s-%d%s", stem, i, ext))
		}
		err := atomicfile.Create(path, old, perm)
		if !errors.Is(err, fs.ErrExist) {
			return path, err
		}
		data, err := pki.ReadFile(path)
		switch {
		case err != nil:
			return "", fmt.Errorf("check earlier backup %s: %w", path, err)
		case bytes.Equal(data, old):
			return path, nil
		}
	}
}

func sameDir(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if errors.Is(err, fs.ErrNotExist) {
		return filepath.Clean(a) == filepath.Clean(b), nil
	}
	if err != nil {
		return false, fmt.Errorf("check backup folder %s: %w", a, err)
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, fmt.Errorf("check manifest folder %s: %w", b, err)
	}
	return os.SameFile(sa, sb), nil
}
