package renewal

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/certdir"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/pki"
)

// Backups. Before a renewal replaces files, the old ones are copied, in
// the same transaction, into
//
//	PARENT/certctl-backups/TIMESTAMP/
//	    backup.json          BackupManifest: what each file was and where it came from
//	    pki/apiserver.crt    files of the certificate folder, by their path in it
//	    pki/etcd/server.key
//	    admin.conf           kubeconfig files, by their name
//
// where PARENT is the certificate folder's parent (/etc/kubernetes for
// /etc/kubernetes/pki) and TIMESTAMP the UTC start of the run
// (20260102T150405Z, then -002, -003... when taken again in the same
// second, after the highest there, so that the names of one second sort in
// the order they were made). backup.json's seq says that order across
// seconds, also after the clock was set back (ListBackups). Folders
// are 0700, files keep their mode and owner: each backup is the old file
// itself (a hard link staged before the new file replaces it, so no data is
// copied), or a copy where the backup folder is on another file system. A layout a shell user can restore by
// hand with cp, and `certctl restore` can read from backup.json.
const (
	BackupDirName      = "certctl-backups"
	BackupManifestName = "backup.json"
	// BackupCertDirName is the sub-folder holding the certificate folder's files.
	BackupCertDirName = "pki"
	// BackupManifestVersion is the version of backup.json's format.
	BackupManifestVersion = 1
)

// BackupManifest is backup.json.
type BackupManifest struct {
	Version       int          `json:"version"`
	Created       time.Time    `json:"created"`
	CertDir       string       `json:"certDir"`       // absolute
	KubeconfigDir string       `json:"kubeconfigDir"` // absolute
	Files         []BackupFile `json:"files"`
	// Seq orders the backups of one backup folder: one more than the
	// highest of the backups there when it was made, so that `restore
	// latest` and prune find the one made last even after the clock was
	// set back (Created, and the folder's name, then go back too). 0, and
	// absent, in the backups of a certctl before it, which are older.
	Seq int `json:"seq,omitempty"`
	BackupNote
}

// BackupNote says, for a backup that restoring would not undo, what made
// it and what undoes it: `certctl restore` refuses it. Empty for a
// renewal's and an import's backups; a restore's has RestoreOf only.
type BackupNote struct {
	MadeBy string `json:"madeBy,omitempty"` // "stage trust of the ca rotation"
	Undo   string `json:"undo,omitempty"`   // what to do instead: "go back with `certctl ca rotate ca --abort`"
	// RestoreOf is, in the backup a restore made of the files it
	// replaced, the folder of the backup it wrote back: restoring this
	// one undoes that restore, which `restore latest` run again must not
	// do (RestoreInEffect).
	RestoreOf string `json:"restoreOf,omitempty"`
}

// BackupFile is one saved file.
type BackupFile struct {
	Path   string `json:"path"`   // where it was, absolute
	Backup string `json:"backup"` // where it is, relative to the backup folder
	Mode   string `json:"mode"`   // octal, "0600"
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
	SHA256 string `json:"sha256"`
}

// BackupRoot returns the folder that holds the backups of a certificate folder.
func BackupRoot(certDir string) (string, error) {
	return certdir.Beside(certDir, BackupDirName)
}

// planBackup returns the backup of every file the items replace (see
// newBackup).
func planBackup(now time.Time, o Options, items []*item) (string, []txn.File, error) {
	var old []*oldFile
	for _, it := range items {
		old = append(old, it.replaced(it, o.ReuseKey)...)
	}
	extra, err := o.oldExtra()
	if err != nil {
		return "", nil, err
	}
	return newBackup(o.CertDir, o.KubeconfigDir, now, append(old, extra...), o.Note)
}

// oldExtra reads the files of o.Extra that exist in CertDir or
// KubeconfigDir, which are backed up with the files replaced; not those
// of ExtraFor (see there).
func (o *Options) oldExtra() ([]*oldFile, error) {
	var old []*oldFile
	for _, f := range o.Extra {
		if !inside(f.Target, o.CertDir) && filepath.Dir(f.Target) != o.KubeconfigDir {
			continue // not a node file (a manifest's own backup)
		}
		if slices.Contains(o.records, f.Target) {
			continue
		}
		of, err := readOld(f.Target)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		old = append(old, of)
	}
	return old, nil
}

// newBackup chooses a new folder of BackupRoot(certDir) and returns it and
// the files that save old into it, then backup.json; "" and none when old
// is empty. Files of certDir go under pki/ by their path in it, kubeconfig
// files by their name. The copies are hard links to the old files where
// the file system allows (txn.File.LinkFrom), so a backup costs no data
// writes. Renew, Restore and Install (import) all back up through here, so
// `certctl restore` reads every backup alike.
func newBackup(certDir, kubeconfigDir string, now time.Time, old []*oldFile, note BackupNote) (string, []txn.File, error) {
	if len(old) == 0 {
		return "", nil, nil
	}
	root, err := BackupRoot(certDir)
	if err != nil {
		return "", nil, err
	}
	// Checked here, not only by restore: a renewal saved its backup in a
	// certctl-backups that other users may write (which the refusals of
	// docs/renew.md list), and restore refused that backup when it was
	// needed.
	if err := checkBackupRoot(root); err != nil {
		return "", nil, err
	}
	dir, err := freeName(root, now.UTC().Format("20060102T150405Z"))
	if err != nil {
		return "", nil, err
	}
	seq, err := nextSeq(root)
	if err != nil {
		return "", nil, err
	}
	var files []txn.File
	m := BackupManifest{Version: BackupManifestVersion, Created: now.UTC(), CertDir: certDir, KubeconfigDir: kubeconfigDir, Seq: seq, BackupNote: note}
	for _, f := range old {
		var rel string
		switch {
		case inside(f.path, certDir):
			r, err := filepath.Rel(certDir, f.path)
			if err != nil {
				return "", nil, fmt.Errorf("back up %s: %w", f.path, err)
			}
			rel = filepath.Join(BackupCertDirName, r)
		case filepath.Dir(filepath.Clean(f.path)) == filepath.Clean(kubeconfigDir):
			rel = filepath.Base(f.path)
		default:
			return "", nil, fmt.Errorf("back up %s: not in %s or %s", f.path, certDir, kubeconfigDir)
		}
		sum := sha256.Sum256(f.data)
		m.Files = append(m.Files, BackupFile{Path: f.path, Backup: rel, Mode: fmt.Sprintf("%04o", f.mode),
			UID: f.uid, GID: f.gid, SHA256: hex.EncodeToString(sum[:])})
		files = append(files, txn.File{Target: filepath.Join(dir, rel), Data: f.data, Mode: f.mode, UID: f.uid, GID: f.gid, LinkFrom: f.path})
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", BackupManifestName, err)
	}
	return dir, append(files, txn.File{Target: filepath.Join(dir, BackupManifestName), Data: append(data, '\n'), Mode: 0o600, UID: -1, GID: -1}), nil
}

// freeName returns root/name when no folder of root is name or
// name-NNN, else root/name-NNN for the NNN after the highest there: never
// a name that sorts before a backup of the same second, nor the name of
// one pruned (a later restore's restoreOf may still name it).
func freeName(root, name string) (string, error) {
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read backup folder %s: %w", root, err)
	}
	last := 0
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), name)
		if !ok {
			continue
		}
		if rest == "" {
			last = max(last, 1)
		} else if n, err := strconv.Atoi(strings.TrimPrefix(rest, "-")); err == nil && strings.HasPrefix(rest, "-") && len(rest) == 4 {
			last = max(last, n)
		}
	}
	switch {
	case last == 0:
		return filepath.Join(root, name), nil
	case last >= 999:
		return "", fmt.Errorf("choose a backup folder in %s: too many backups named %s", root, name)
	}
	return filepath.Join(root, fmt.Sprintf("%s-%03d", name, last+1)), nil
}

// nextSeq is the Seq of a new backup of root: one more than the highest
// of its backups.
func nextSeq(root string) (int, error) {
	backups, err := ListBackups(root)
	if err != nil {
		return 0, err
	}
	last := 0
	for _, b := range backups {
		last = max(last, b.seq())
	}
	return last + 1, nil
}

// seqField and certDirField are backup.json's seq and certDir, as text.
var (
	seqField     = regexp.MustCompile(`"seq"\s*:\s*([0-9]+)`)
	certDirField = regexp.MustCompile(`"certDir"\s*:\s*("(?:[^"\\]|\\.)*")`)
)

// damagedManifest is what a backup.json that ReadBackupManifest refuses
// still says of the backup's seq and certificate folder: one of another
// version, or cut or edited after them; 0 and "" when it does not say.
func damagedManifest(dir string) (seq int, certDir string) {
	data, err := pki.ReadFile(filepath.Join(dir, BackupManifestName))
	if err != nil {
		return 0, ""
	}
	var m struct {
		Seq     int    `json:"seq"`
		CertDir string `json:"certDir"`
	}
	if json.Unmarshal(data, &m) == nil {
		return max(m.Seq, 0), m.CertDir
	}
	if f := seqField.FindSubmatch(data); f != nil {
		seq, _ = strconv.Atoi(string(f[1]))
	}
	if f := certDirField.FindSubmatch(data); f != nil {
		_ = json.Unmarshal(f[1], &certDir)
	}
	return seq, certDir
}

// ReadBackupManifest reads DIR/backup.json.
func ReadBackupManifest(dir string) (*BackupManifest, error) {
	p := filepath.Join(dir, BackupManifestName)
	data, err := pki.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read backup manifest %s: %w", p, err)
	}
	var m BackupManifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse backup manifest %s: %w", p, err)
	}
	if m.Version != BackupManifestVersion {
		return nil, fmt.Errorf("backup manifest %s has version %d, this certctl reads %d", p, m.Version, BackupManifestVersion)
	}
	return &m, nil
}
