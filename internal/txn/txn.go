// Package txn replaces a set of files together, so that a process killed at
// any instant leaves either every old file or every new one, once the next
// certctl command has run RecoverIn.
//
// A certificate and its key are two files, and a kubeconfig's certificate
// must match the CA next to it: no single rename(2) can replace them at once,
// and kubeadm, which writes them one after the other in place, leaves a key
// that does not match its certificate when it is killed in between. A
// transaction instead:
//
//  1. stages every new file in ROOT/ID/ (ROOT is .certctl-txn beside the
//     certificate folder, so on the same file system in kubeadm's layout;
//     a target on another one, a mount point or a linked folder, gets a
//     copy in its own folder too, before the commit: see beside.go);
//  2. commits: fsyncs the staged files with the manifest, written as
//     ROOT/ID/.manifest.json.tmp, then renames it to manifest.json and
//     fsyncs ROOT/ID. The manifest lists each target, its staged file,
//     mode, owner and SHA-256;
//  3. renames each staged file (or its copy beside the target) over its
//     target, removes the files it removes (see File.Remove), fsyncs the
//     targets' folders, then removes ROOT/ID and ROOT.
//
// Before step 2, Commit proves that step 3 can succeed (see check.go):
// every target is a regular file or absent, neither immutable nor
// append-only, in a folder certctl may write; the folders of new targets
// (a backup folder) are created then, and recorded in ROOT/ID, so that an
// abort or a discarded transaction removes them again.
//
// RecoverIn, run under certctl's lock (internal/lock) before a command reads
// or writes the folders, rolls a transaction with a manifest forward (step 3
// is idempotent: a staged file that is gone was renamed already) and
// discards one without (nothing had been replaced). It is the
// write-ahead-log recipe with the staged files as the log; see
// https://danluu.com/file-consistency/ on why the fsyncs are needed for
// power loss, not only for kills.
package txn

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/certdir"
)

// Kinds of transaction (Start) other than a renewal, which has none: the
// end of the ID, so that recovery says what it finishes or discards.
const (
	KindDownload = "download" // certs download
	KindImport   = "import"   // certs import
	KindRestore  = "restore"  // restore
	KindRotation = "rotation" // a stage of ca rotate, and its restart mark
)

// DirName is the name of the folder, beside the certificate folder, that
// holds transactions in progress.
const DirName = ".certctl-txn"

// manifestName is the commit mark inside a transaction's folder.
const manifestName = "manifest.json"

// foldersName, in a transaction's folder, lists the folders Commit created
// before its commit point: discarding the transaction removes them.
const foldersName = "folders.json"

// manifestVersion is the format of manifest.json. A RecoverIn that finds a
// version it does not know refuses to touch the transaction.
const manifestVersion = 1

// manifestVersionRemove is the format of a manifest with a removal (an
// entry with no staged file): a certctl that knows no removals refuses it
// by its version, saying to finish it with the certctl that started it,
// instead of as a manifest naming a staged file outside its folder. A
// transaction without removals keeps manifestVersion, which every certctl
// reads.
const manifestVersionRemove = 2

// TargetDirMode is the mode of folders that Commit creates for new targets
// (for example a backup folder): they may hold private keys.
const TargetDirMode fs.FileMode = 0o700

// Root returns the transaction folder for a certificate folder: DirName in
// its parent (/etc/kubernetes/.certctl-txn for /etc/kubernetes/pki). The
// parent, not the folder itself, because kube-apiserver and etcd read the
// certificate folder, and a sibling is on the same file system in every
// layout kubeadm makes, so that commits are renames.
func Root(certDir string) (string, error) {
	return certdir.Beside(certDir, DirName)
}

type manifest struct {
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Entries []entry   `json:"entries"`
}

type entry struct {
	Target string      `json:"target"` // absolute path of the file to create, replace or remove
	Staged string      `json:"staged"` // name of the staged file in the transaction folder; "" for a removal
	Mode   fs.FileMode `json:"mode"`
	UID    int         `json:"uid"`
	GID    int         `json:"gid"`
	// SHA256 is the staged file's; for a removal, the content the target
	// must still have to be removed ("": any).
	SHA256 string `json:"sha256"`
	Remove bool   `json:"remove,omitempty"` // remove Target (File.Remove)
	// Beside is the name of a temporary file in Target's folder that
	// holds the staged content, written before the commit point because
	// that folder is on another file system than the transaction's
	// (stageBeside): apply renames it over Target. The staged file is
	// kept until then, so that a certctl that does not know this field
	// (it ignores it) still finishes the transaction as it always did,
	// by copying the staged file over, and removes the temporary file
	// as a killed write's (atomicfile.CleanTemp): the manifest version
	// stays.
	Beside string `json:"beside,omitempty"`
	// Was is the SHA-256 of Target's content when the file was staged,
	// wasAbsent when there was none, "" when it could not be read (or a
	// certctl that did not record it made the transaction). Recovery
	// refuses to roll forward over a target that holds anything else
	// (changedTargets): another tool wrote it after the interruption.
	Was string `json:"was,omitempty"`
}

// digest is entry.SHA256 and entry.Was of content data: its SHA-256, in
// hex.
func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// wasAbsent is entry.Was of a target that did not exist.
const wasAbsent = "absent"

// Txn is a transaction being built. It is not safe for concurrent use, and
// the caller must hold certctl's lock (internal/lock) from Begin to Commit.
type Txn struct {
	root    string
	dir     string
	m       manifest
	done    bool
	sync    syncer   // fsyncs of the staged files, started by Add
	created []string // folders made by Commit before its commit point
	temps   []string // temporary files beside targets (stageBeside)
}

// Begin creates an empty transaction in root (see Root). id names its folder
// and must be unique in root; NewID makes one.
func Begin(root, id string, now time.Time) (*Txn, error) {
	if id == "" || id != filepath.Base(id) || id[0] == '.' || strings.HasSuffix(id, finishedSuffix) {
		return nil, fmt.Errorf("txn: invalid transaction id %q", id)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create transaction folder %s: %w", root, err)
	}
	if err := checkRoot(root); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create transaction folder %s: %w", dir, err)
	}
	return &Txn{root: root, dir: dir, m: manifest{Version: manifestVersion, Created: now.UTC()}}, nil
}

// NewID returns a transaction id: the UTC time and 8 random hex digits.
func NewID(now time.Time, rand io.Reader) (string, error) {
	b := make([]byte, 4)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("txn: make transaction id: %w", err)
	}
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b), nil
}

// File is one file a transaction creates or replaces.
type File struct {
	Target string // absolute path
	Data   []byte
	Mode   fs.FileMode
	// UID and GID own the new file; -1 (or a non-root process) leaves the
	// creating process's. Renewal passes the replaced file's owner, because
	// kubeadm writes in place and so keeps it (some nodes run etcd as a
	// non-root user that owns its certificates).
	UID, GID int
	// LinkFrom, when set, is a file whose content is Data and whose mode
	// and owner are Mode, UID and GID (a file about to be replaced, read
	// under the lock): it is staged as a hard link to it, which copies no
	// data and needs no fsync — how backups are made. Where a link is
	// impossible (another file system, an immutable file), or LinkFrom is
	// not a regular file holding Data (a symbolic link, which link(2)
	// would link itself), Data is written.
	LinkFrom string
	// Remove removes Target at the commit instead of writing it: in the
	// same commit as the writes, rolled forward by RecoverIn as they are,
	// and left in place by an abort or a transaction discarded before its
	// commit. Nothing is staged, and Mode, UID and GID are not used. With
	// Data not nil, Target is removed only if it still holds exactly Data
	// (another process may have put a new file there since it was read);
	// a Target that is gone is not an error. Commit refuses a Target that
	// is not a regular file, or that unlink(2) could not remove (see
	// preflight), as it refuses one it could not replace; RecoverIn one
	// outside its Scope. The renewal through the certificates API removes
	// the pending key of each certificate it installs this way, so that no
	// kill leaves a copy of a private key in use.
	Remove bool
}

// Targets are the targets of files, in their order, those removed
// included.
func Targets(files []File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Target
	}
	return out
}

// Add stages f to be written when the transaction commits. Files are
// written in the order they are added.
func (t *Txn) Add(f File) error {
	if t.done {
		return fmt.Errorf("txn: add %s: transaction already ended", f.Target)
	}
	if !filepath.IsAbs(f.Target) {
		return fmt.Errorf("txn: add %s: target must be an absolute path", f.Target)
	}
	if slices.ContainsFunc(t.m.Entries, func(e entry) bool { return e.Target == f.Target }) {
		return fmt.Errorf("txn: add %s: target added twice", f.Target)
	}
	if f.Remove {
		if f.LinkFrom != "" {
			return fmt.Errorf("txn: add %s: a removal has no content to link from %s", f.Target, f.LinkFrom)
		}
		e := entry{Target: f.Target, Remove: true, UID: -1, GID: -1}
		if f.Data != nil {
			e.SHA256 = digest(f.Data)
		}
		t.m.Entries = append(t.m.Entries, e)
		return nil
	}
	name := strconv.Itoa(len(t.m.Entries))
	e := entry{Target: f.Target, Staged: name, Mode: f.Mode, UID: f.UID, GID: f.GID, Was: contentOf(f.Target)}
	staged := filepath.Join(t.dir, name)
	if !linkStaged(f, staged) {
		if err := writeStaged(staged, f.Data, e); err != nil {
			return err
		}
		t.sync.start(staged)
	}
	e.SHA256 = digest(f.Data)
	t.m.Entries = append(t.m.Entries, e)
	return nil
}

// linkStaged stages f as a hard link to f.LinkFrom, and reports whether
// it did. link(2) does not follow a symbolic link: LinkFrom being one
// would stage the link, not the content, and a backup of a relative link
// points nowhere once moved. So the staged file must be a regular file
// holding Data (another tool may have rewritten LinkFrom in place since
// the caller read it: the backup would not hold what its manifest says),
// or it is removed and Data written instead.
func linkStaged(f File, staged string) bool {
	if f.LinkFrom == "" || os.Link(f.LinkFrom, staged) != nil {
		return false
	}
	if st, err := os.Lstat(staged); err == nil && st.Mode().IsRegular() && st.Size() == int64(len(f.Data)) {
		if data, err := readStaged(staged); err == nil && bytes.Equal(data, f.Data) {
			return true
		}
	}
	os.Remove(staged)
	return false
}

// Commit checks that every target can be replaced (see preflight) and
// creates the folders that new targets need, then makes the transaction
// durable and replaces every target. A failed check aborts the
// transaction: no target is touched. Once the manifest is written the
// transaction is committed: if Commit fails or the process dies after that
// point, RecoverIn finishes it.
func (t *Txn) Commit() error {
	if t.done {
		return fmt.Errorf("txn: commit %s: transaction already ended", t.dir)
	}
	t.done = true
	create, err := preflight(t.m.Entries)
	if err == nil {
		err = t.makeFolders(create)
	}
	if err != nil {
		t.discard()
		return fmt.Errorf("%w; nothing was changed", err)
	}
	if err := t.stageBeside(); err != nil {
		t.discard()
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			return err // writeStaged said that nothing was changed
		}
		return fmt.Errorf("%w; nothing was changed", err)
	}
	if err := t.writeManifest(); err != nil {
		t.discard()
		return err
	}
	if err := apply(t.dir, t.m, false); err != nil {
		return fmt.Errorf("%w; the change is committed: the next certctl command finishes it", err)
	}
	return finishCommitted(t.root, t.dir)
}

// Abort removes the staged files; no target is touched. It does nothing
// after Commit.
func (t *Txn) Abort() error {
	if t.done {
		return nil
	}
	t.done = true
	return t.discard()
}

// discard removes what an uncommitted transaction made: its staged files,
// the temporary files beside targets and the folders Commit created.
func (t *Txn) discard() error {
	t.sync.wait() // the fsyncs of files about to be removed; their errors do not matter
	removeTemps(t.temps)
	removeFolders(t.created)
	return finish(t.root, t.dir)
}

// writeList writes list, what it is, as the file name of the
// transaction's folder (foldersName, tempsName), and starts its fsync.
func (t *Txn) writeList(name, what string, list []string) error {
	data, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("txn: encode %s: %w", what, err)
	}
	record := filepath.Join(t.dir, name)
	if err := writeStaged(record, data, entry{Mode: 0o600, UID: -1, GID: -1}); err != nil {
		return err
	}
	t.sync.start(record)
	return nil
}

// makeFolders creates folders (outermost first) with TargetDirMode, after
// listing them in the transaction's folder, so that the backup folder
// exists before the commit point and a discarded transaction, even one
// discarded by RecoverIn after a kill, leaves none behind. Their entries in
// their parents are fsynced with the staged files, before the commit.
func (t *Txn) makeFolders(folders []string) error {
	if len(folders) == 0 {
		return nil
	}
	if err := t.writeList(foldersName, "folder list", folders); err != nil {
		return err
	}
	for _, d := range folders {
		if err := os.Mkdir(d, TargetDirMode); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue // made meanwhile (certctl's lock keeps other certctls out, not people)
			}
			if cerr := checkDir(filepath.Dir(d), false); cerr != nil {
				return cerr
			}
			return fmt.Errorf("create folder %s: %w", d, err)
		}
		t.created = append(t.created, d)
		t.sync.start(filepath.Dir(d))
	}
	return nil
}

// removeFolders removes folders made for a transaction that was not
// committed, innermost first. A folder that is not empty (someone put a
// file in it) or is gone stays as it is.
func removeFolders(folders []string) {
	for i := len(folders) - 1; i >= 0; i-- {
		_ = os.Remove(folders[i])
	}
}

// writeManifest is the commit point. The staged files and the manifest
// must be durable before the manifest's name is, and that before any
// target is replaced: two rounds of fsync, the first one mostly done in
// the background as files were added (see syncer).
func (t *Txn) writeManifest() error {
	if slices.ContainsFunc(t.m.Entries, func(e entry) bool { return e.Remove }) {
		t.m.Version = manifestVersionRemove
	}
	data, err := json.MarshalIndent(t.m, "", "  ")
	if err != nil {
		return fmt.Errorf("txn: encode manifest: %w", err)
	}
	// Not atomicfile.WriteFile: it would fsync the manifest on its own.
	// A kill before the rename leaves this dot-file, and no manifest:
	// RecoverIn discards the transaction.
	tmp := filepath.Join(t.dir, "."+manifestName+".tmp")
	if err := writeStaged(tmp, data, entry{Mode: 0o600, UID: -1, GID: -1}); err != nil {
		return err
	}
	t.sync.start(tmp)
	// The folder too: a staged hard link (a backup) has no data to sync,
	// only its name here, which must be durable before the commit.
	t.sync.start(t.dir)
	if err := t.sync.wait(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(t.dir, manifestName)); err != nil {
		return fmt.Errorf("commit transaction %s: %w", t.dir, err)
	}
	if err := atomicfile.SyncDir(t.dir); err != nil {
		return fmt.Errorf("commit transaction %s: %w", t.dir, err)
	}
	return nil
}

// finishedSuffix ends the name of a transaction folder whose targets are
// all in place: finishCommitted renames the folder so before it removes it.
// Under its own name, a folder a kill left half removed, its manifest gone,
// would look interrupted before its commit, and be reported as a discarded
// transaction that had changed no file, when it had changed every one.
const finishedSuffix = ".finished"

// removeAll is os.RemoveAll; a test stops it as a kill would.
var removeAll = os.RemoveAll

// finishCommitted removes a transaction whose targets are all in place.
func finishCommitted(root, dir string) error {
	done := dir + finishedSuffix
	if err := os.Rename(dir, done); err != nil {
		return fmt.Errorf("remove finished transaction %s: %w", dir, err)
	}
	return finish(root, done)
}

// finish removes a transaction folder: that of a finished transaction
// (finishCommitted), or of one that discard drops. The manifest goes first,
// so that a kill during the removal of a discarded transaction leaves a
// folder without one, which RecoverIn discards again.
func finish(root, dir string) error {
	if err := os.Remove(filepath.Join(dir, manifestName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove transaction manifest in %s: %w", dir, err)
	}
	if err := removeAll(dir); err != nil {
		return fmt.Errorf("remove transaction folder %s: %w", dir, err)
	}
	_ = os.Remove(root) // fails while root is not empty, which is what we want
	return nil
}

// WriteAll writes files in one transaction kept beside certDir (Root),
// named from now and rand: all of them, or, after a crash, none once
// recovered.
func WriteAll(certDir string, now time.Time, rand io.Reader, files []File) error {
	return WriteAllKind(certDir, "", now, rand, files)
}

// Start begins a transaction kept beside certDir (Root), its ID named
// from now and rand and, when kind is not "", ending in "-"+kind, so
// that recovery can say what kind of write it finishes or discards. IDs
// still start with their UTC time, so recovery's time order stands.
func Start(certDir, kind string, now time.Time, rand io.Reader) (*Txn, error) {
	root, err := Root(certDir)
	if err != nil {
		return nil, err
	}
	id, err := NewID(now, rand)
	if err != nil {
		return nil, err
	}
	if kind != "" {
		id += "-" + kind
	}
	return Begin(root, id, now)
}

// WriteAllKind is WriteAll in a transaction of kind (Start).
func WriteAllKind(certDir, kind string, now time.Time, rand io.Reader, files []File) error {
	t, err := Start(certDir, kind, now, rand)
	if err != nil {
		return err
	}
	defer t.Abort() // does nothing once committed
	for _, f := range files {
		if err := t.Add(f); err != nil {
			return err
		}
	}
	return t.Commit()
}
