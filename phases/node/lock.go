// Package node reads and writes a node's certificate and kubeconfig
// folders safely: every command that writes them holds certctl's lock and
// first recovers an interrupted renewal or write (Lock); every command that
// only reads them reads a consistent state without waiting (Read, DryRun).
package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/certdir"
	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// Lock must run first in every command that writes the
// certificate or kubeconfig folders. It takes certctl's lock
// (internal/lock, beside the certificate folder), waiting up to wait for
// another certctl and saying on errOut who holds it, every 10 seconds,
// then recovers (see recoverLocked). The returned function releases the
// lock; call it when the command is done.
func Lock(ctx context.Context, errOut io.Writer, certDir string, wait time.Duration, kubeconfigDirs ...string) (release func(), err error) {
	return LockReporting(ctx, errOut, errOut, certDir, wait, kubeconfigDirs...)
}

// LockReporting is Lock with the lines that say who holds the lock going
// to progress instead (io.Discard for --quiet).
func LockReporting(ctx context.Context, errOut, progress io.Writer, certDir string, wait time.Duration, kubeconfigDirs ...string) (release func(), err error) {
	if err := checkFolders(certDir, kubeconfigDirs); err != nil {
		return nil, err
	}
	release, err = acquireWriting(ctx, certDir, lock.Wait{Timeout: wait, Progress: progress})
	if err != nil {
		return nil, err
	}
	if err := recoverLocked(errOut, certDir, kubeconfigDirs); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// LockWriting is Lock for a command that also writes files outside the
// certificate and kubeconfig folders (`certs download`'s etcd.external
// files): the recovery it runs first also finishes or discards a
// transaction that wrote in the folders also, and removes the temporary
// files a killed write left there, so that running the command again
// finishes what a kill interrupted. kubeconfigDirs are the node's
// kubeconfig folders, as for Lock: recovery also looks beside a link to
// certDir there (/etc/kubernetes/pki -> /data/pki), where a run given
// that name left its transaction.
func LockWriting(ctx context.Context, errOut io.Writer, certDir string, wait time.Duration, also []string, kubeconfigDirs ...string) (release func(), err error) {
	if err := checkFolders(certDir, kubeconfigDirs); err != nil {
		return nil, err
	}
	release, err = acquireWriting(ctx, certDir, lock.Wait{Timeout: wait, Progress: errOut})
	if err != nil {
		return nil, err
	}
	if err := recoverIn(errOut, certDir, kubeconfigDirs, also); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// recoverIfUnlocked is Lock for commands that only read, such as
// check-expiration from a monitoring agent: they never wait. When another
// certctl holds the lock, its transaction is in progress, not interrupted,
// and must not be touched: the command reads the files as they are. When
// the lock cannot be taken at all (a user who may not write beside the
// certificate folder), there is nothing such a user could recover either;
// nor on a read-only file system, or one too full to create the lock file,
// which it says on one line.
//
// When recovery itself fails (a committed renewal whose next rename the
// kernel refuses, say an immutable key), the command does not fail: it
// says so on one line and reads the files as they are, so that
// check-expiration still reports what is on disk, a certificate that does
// not match its key included, instead of only the recovery's error. The
// transaction stays; the next certctl command retries it.
//
// locked says whether it holds the lock until release: when it does not,
// another certctl may be writing the files while the command reads them
// (Read reads them again).
func recoverIfUnlocked(ctx context.Context, errOut io.Writer, certDir string, kubeconfigDirs ...string) (release func(), locked bool, err error) {
	release, err = acquire(ctx, certDir, lock.Wait{})
	var held *lock.HeldError
	switch {
	case errors.As(err, &held):
		fmt.Fprintf(errOut, "[recover] skipped: %s is working on these files; reading them as they are\n", held.Holder)
		return func() {}, false, nil
	case errors.Is(err, fs.ErrPermission):
		return func() {}, false, nil
	case errors.Is(err, syscall.EROFS):
		// Nobody can recover anything there until it is remounted; a
		// monitoring agent must still see what is on disk.
		where, _ := lock.Beside(certDir)
		fmt.Fprintf(errOut, "[recover] skipped: %s is on a read-only file system, so what an interrupted run left there cannot be recovered; reading the files as they are (remount it read-write, then any certctl command recovers them)\n", filepath.Dir(where))
		return func() {}, false, nil
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		// No inode for the lock file: as read-only, until space is freed.
		where, _ := lock.Beside(certDir)
		fmt.Fprintf(errOut, "[recover] skipped: the file system of %s is full, so certctl cannot take its lock there to recover what an interrupted run left; reading the files as they are (free space, then any certctl command recovers them)\n", filepath.Dir(where))
		return func() {}, false, nil
	case err != nil:
		return nil, false, err
	}
	if err := recoverLocked(errOut, certDir, kubeconfigDirs); err != nil {
		fmt.Fprintf(errOut, "[warning] %v; reading the files as they are (every certctl command retries it)\n", err)
	}
	return release, true, nil
}

// acquire takes the lock that guards certDir and returns its release. A
// certificate folder whose parent does not exist yet has nothing to read:
// acquire, for the commands that only read, then takes no lock, and the
// release does nothing (the commands that write make the parent,
// acquireWriting). A folder reached through a symbolic link is guarded by the lock beside the
// folder it resolves to as well (linkedLock); wait applies to each.
func acquire(ctx context.Context, certDir string, wait lock.Wait) (release func(), err error) {
	return acquireIn(ctx, certDir, wait, true)
}

// acquireIn is acquire; without missingOK, a parent that does not exist
// is an error (fs.ErrNotExist), not a lock-free release.
func acquireIn(ctx context.Context, certDir string, wait lock.Wait, missingOK bool) (release func(), err error) {
	path, err := lock.Beside(certDir)
	if err != nil {
		return nil, err
	}
	release1, err := take(ctx, path, wait)
	if err != nil && (!missingOK || !errors.Is(err, fs.ErrNotExist)) {
		return nil, WithPermissionHint(err)
	}
	if err != nil {
		release1 = func() {}
	}
	linked := linkedLock(certDir, path)
	if linked == "" {
		return release1, nil
	}
	// Taken second, always: a command given the folder's real path takes
	// only this one, so no two commands wait for each other in turn.
	release2, err := take(ctx, linked, wait)
	var heldErr *lock.HeldError
	switch {
	case err == nil:
		return func() { release2(); release1() }, nil
	case errors.As(err, &heldErr) || ctx.Err() != nil:
		release1()
		return nil, err
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrNotExist):
		// A real parent certctl may not write in: no command can take
		// that lock, and the one beside the link still guards.
		return release1, nil
	}
	release1()
	return nil, err
}

// acquireWriting is acquire for a command that writes: a certificate
// folder whose parent does not exist yet (a new node's /etc/kubernetes) is
// guarded too. Without the lock there, two `init-phase certs all` at once
// each wrote a CA and signed leaves with their own, leaving certificates
// the CA on disk did not sign. It makes the missing folders (pki.DirMode,
// as the files' writes would) and takes the lock in the parent; the
// release removes them again when the command wrote nothing else there, so
// that a command that fails changes nothing.
func acquireWriting(ctx context.Context, certDir string, wait lock.Wait) (release func(), err error) {
	path, err := lock.Beside(certDir)
	if err != nil {
		return nil, err
	}
	// Another command that failed there may remove the folders between
	// their making and the lock (lock.AcquireWait sees it): make them again.
	for range 3 {
		made, err := makeFolders(filepath.Dir(path))
		if err != nil {
			return nil, WithPermissionHint(err)
		}
		held, err := acquireIn(ctx, certDir, wait, false)
		if err == nil {
			if len(made) == 0 {
				return held, nil
			}
			return func() { releaseMade(path, made, held) }, nil
		}
		removeFolders(made)
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("lock %s: its folder was removed three times while certctl made it and took the lock: run certctl again once the other certctl commands have finished", path)
}

// makeFolders makes dir and its missing parents, and returns those it
// made, dir last. The nearest that exists may be a symbolic link to
// nothing (/etc/kubernetes linked to a data volume not mounted): it is
// refused, naming it, as checkFolders refuses --cert-dir. Without that,
// the lock's open through it failed three times and certctl said that
// another command had removed the folder.
func makeFolders(dir string) (made []string, err error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || d == filepath.Dir(d) {
			if err := danglingLink(d, d); err != nil {
				return nil, err
			}
			break
		}
		missing = append([]string{d}, missing...)
	}
	for _, d := range missing {
		switch err := os.Mkdir(d, pki.DirMode); {
		case err == nil:
			made = append(made, d)
		case !errors.Is(err, fs.ErrExist): // made by another command: not ours to remove
			removeFolders(made)
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // not "create folder X: mkdir X: ..."
			}
			return nil, fmt.Errorf("create folder %s: %w", d, err)
		}
	}
	return made, nil
}

// releaseMade releases the lock at path, in the last of the folders made
// for it, first removing the lock file and those folders when the command
// wrote nothing else there. The lock file goes while it is held: a command
// waiting for it then takes another (lock.AcquireWait).
func releaseMade(path string, made []string, release func()) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil || len(entries) != 1 || entries[0].Name() != filepath.Base(path) {
		release()
		return
	}
	os.Remove(path)
	release()
	removeFolders(made)
}

// removeFolders removes the folders made, deepest first, each only if
// empty.
func removeFolders(made []string) {
	for _, d := range slices.Backward(made) {
		os.Remove(d)
	}
}

// held are the lock files this process holds through take, each with the
// number of takes that hold it. flock(2) locks an open file, not a
// process: a command that locks a second folder whose lock it holds
// already would wait for itself. With linkedLock that happens to layouts
// the callers' own checks of lock.Beside do not foresee: --cert-dir
// /etc/kubernetes/pki, a link to /data/pki, takes /data/.certctl.lock,
// which `renew --restart-control-plane --manifest-dir /data/manifests`
// then takes for the manifest folder.
var held struct {
	sync.Mutex
	files []*heldFile
}

type heldFile struct {
	fi   os.FileInfo
	n    int
	lock *lock.Lock
}

// take takes the lock at path, or counts one more holder when this
// process holds it already through take; the release drops the lock when
// its last holder releases it.
func take(ctx context.Context, path string, wait lock.Wait) (release func(), err error) {
	if h := holding(path); h != nil {
		return func() { drop(h) }, nil
	}
	// Not under held's mutex: a release must not wait for this wait.
	l, err := lock.AcquireWait(ctx, path, wait)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return func() { l.Release() }, nil
	}
	h := &heldFile{fi: fi, n: 1, lock: l}
	held.Lock()
	held.files = append(held.files, h)
	held.Unlock()
	return func() { drop(h) }, nil
}

// holding returns the lock file at path, one more holder counted, when
// this process holds it through take; else nil.
func holding(path string) *heldFile {
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	held.Lock()
	defer held.Unlock()
	for _, h := range held.files {
		if os.SameFile(h.fi, fi) {
			h.n++
			return h
		}
	}
	return nil
}

func drop(h *heldFile) {
	held.Lock()
	defer held.Unlock()
	if h.n--; h.n > 0 {
		return
	}
	held.files = slices.DeleteFunc(held.files, func(o *heldFile) bool { return o == h })
	h.lock.Release()
}

// linkedLock returns the lock file beside the folder certDir resolves to
// when certDir is reached through a symbolic link and that lock file is
// another file than path (the lock beside certDir as given), else "". A
// node whose /etc/kubernetes/pki links to /data/pki is written by
// commands given either name: both take the lock beside /data/pki.
func linkedLock(certDir, path string) string {
	resolved, err := filepath.EvalSymlinks(certDir)
	if err != nil {
		return ""
	}
	linked, err := lock.Beside(resolved)
	if err != nil {
		return ""
	}
	a, errA := os.Stat(filepath.Dir(path))
	b, errB := os.Stat(filepath.Dir(linked))
	if errA != nil || errB != nil || os.SameFile(a, b) {
		return ""
	}
	return linked
}

// recoverLocked rolls forward or discards a renewal that was interrupted
// (txn.RecoverIn, scoped to these folders), and removes the temporary files a killed
// atomicfile.WriteFile leaves in the certificate folder, its etcd folder
// and the kubeconfig folders. What it did goes to errOut, so that a
// command's own output stays parseable. The caller holds the lock.
func recoverLocked(errOut io.Writer, certDir string, kubeconfigDirs []string) error {
	return recoverIn(errOut, certDir, kubeconfigDirs, nil)
}

// recoverIn is recoverLocked whose scope also has the folders also. It
// recovers beside every name of certDir (recoverAliases).
func recoverIn(errOut io.Writer, certDir string, kubeconfigDirs, also []string) error {
	if err := recoverOneName(errOut, certDir, kubeconfigDirs, also); err != nil {
		return err
	}
	return recoverAliases(errOut, certDir, kubeconfigDirs, also)
}

// recoverOneName is recoverIn beside certDir as named.
func recoverOneName(errOut io.Writer, certDir string, kubeconfigDirs, also []string) error {
	root, err := txn.Root(certDir)
	if err != nil {
		return err
	}
	// Recovery writes only inside the folders this command manages: a
	// transaction manifest naming any other file is refused and left for a
	// person (txn.RecoverIn).
	backups, err := renewal.BackupRoot(certDir)
	if err != nil {
		return err
	}
	// The kubelet's manifest folder beside the certificate folder
	// (/etc/kubernetes/manifests) too: a CA rotation edits
	// kube-controller-manager's manifest in the transaction of its stage
	// (phases/carotate), which any command must be able to finish.
	manifestDir := filepath.Join(filepath.Dir(filepath.Clean(certDir)), "manifests")
	// And the record of the restarts a renewal owes, which `renew
	// --restart-control-plane` writes in the renewal's transaction.
	owed, err := staticpods.PendingPath(certDir)
	if err != nil {
		return err
	}
	// And the pending keys of `renew --use-api`, which its install's
	// transaction removes.
	pendingKeys, err := certdir.Beside(certDir, certdir.PendingKeys)
	if err != nil {
		return err
	}
	scope := txn.Scope{Folders: slices.Concat([]string{certDir, filepath.Join(certDir, "etcd"), manifestDir, pendingKeys}, kubeconfigDirs, also), Trees: []string{backups}, Files: []string{owed}}
	report, err := txn.RecoverIn(root, scope)
	if report != nil {
		printRecovery(errOut, report)
	}
	var out *txn.OutsideError
	if errors.As(err, &out) && txnKind(filepath.Base(out.Dir)) == TxnDownload {
		// A download writes etcd.external's files where the settings
		// put them, outside this command's folders: only a download,
		// which reads those settings, may finish it.
		return fmt.Errorf("transaction %s of an interrupted `certctl certs download` names %s, outside the folders this command manages: nothing was changed; run `certctl certs download` again with the same --config to finish it (upload the certificates again first if the Secret kube-system/kubeadm-certs is gone)", out.Dir, out.Path)
	}
	if errors.As(err, &out) && rotationTxn(out.Targets) && filepath.Ext(out.Path) == ".yaml" {
		// A stage of `ca rotate --manifest-dir DIR` edits
		// kube-controller-manager's manifest in DIR: only a command given
		// that folder may finish it. Part of the stage may be in place
		// already (the rest is staged): moving the transaction away, as
		// the general refusal says, would leave the rotation half made.
		return fmt.Errorf("transaction %s of an interrupted `certctl ca rotate` names %s, outside the folders this command manages: nothing was changed; do not move it away, part of the stage may be in place: run `certctl ca status --manifest-dir %s --cert-dir %s` (and the --kubeconfig-dir you gave ca rotate) to finish it, then this command again", out.Dir, out.Path, filepath.Dir(out.Path), certDir)
	}
	if err != nil {
		return WithPermissionHint(fmt.Errorf("recover an interrupted renewal: %w", err))
	}
	return CleanTemp(errOut, slices.Concat(tempDirs(certDir, kubeconfigDirs), also))
}

// rotationTxn reports whether a committed transaction's targets are a CA
// rotation stage's: one of them is a rotation record
// (.certctl-rotation-NAME.json, phases/carotate), which every stage
// writes in its transaction.
func rotationTxn(targets []string) bool {
	return slices.ContainsFunc(targets, func(p string) bool {
		b := filepath.Base(p)
		return strings.HasPrefix(b, ".certctl-rotation-") && strings.HasSuffix(b, ".json")
	})
}

// RecoverBesideManifests finishes or discards what an interrupted command
// left in the transaction folder beside the manifest folder manifestDir,
// under the lock the caller holds (LockOnly on it): a stage of `ca rotate`
// edits kube-controller-manager's manifest in its transaction, and an edit
// made before that transaction is finished would be overwritten by it.
// The folders are kubeadm's layout around manifestDir (pki and the
// kubeconfig folder beside it); a transaction that names another file is
// refused and left as it is (txn.RecoverIn).
func RecoverBesideManifests(errOut io.Writer, manifestDir string) error {
	parent := filepath.Dir(filepath.Clean(manifestDir))
	return recoverIn(errOut, filepath.Join(parent, "pki"), []string{parent}, []string{filepath.Clean(manifestDir)})
}

// tempDirs are the folders where a killed atomicfile.WriteFile of a
// command on certDir leaves its temporary file: the certificate and
// kubeconfig folders, and the manifest folder beside them with certctl's
// manifest backups in tmp/ (manifests.TempDirs), which the same lock guards.
func tempDirs(certDir string, kubeconfigDirs []string) []string {
	manifestDir := filepath.Join(filepath.Dir(filepath.Clean(certDir)), "manifests")
	return slices.Concat([]string{certDir, filepath.Join(certDir, "etcd")}, manifests.TempDirs(manifestDir), kubeconfigDirs)
}

// CleanTemp removes from dirs the temporary files a killed
// atomicfile.WriteFile left, saying so on errOut.
func CleanTemp(errOut io.Writer, dirs []string) error {
	for _, d := range dirs {
		removed, err := atomicfile.CleanTemp(d)
		for _, p := range removed {
			fmt.Fprintf(errOut, "[recover] removed %s, left by an interrupted write\n", p)
		}
		if err != nil {
			return WithPermissionHint(err)
		}
	}
	return nil
}

// WithPermissionHint says what to do about a folder certctl may not read.
func WithPermissionHint(err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: run certctl as root, or fix the permissions", err)
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%w: remount the file system read-write (--dry-run writes nothing)", err)
	}
	return err
}

func printRecovery(w io.Writer, r *txn.Report) {
	for _, t := range r.Transactions {
		if t.Committed {
			replaced, backup := splitBackup(t.Targets)
			saved := ""
			if backup != "" {
				saved = "; the replaced ones are saved in " + backup
			}
			removed := ""
			if len(t.Removes) > 0 {
				removed = fmt.Sprintf("; %d removed (%s)", len(t.Removes), strings.Join(t.Removes, ", "))
			}
			fmt.Fprintf(w, "[recover] finished %s %s, which was interrupted after it committed: %d file(s) now hold the new content%s%s\n", txnKind(t.ID), t.ID, replaced, removed, saved)
		} else {
			fmt.Fprintf(w, "[recover] discarded %s %s, which was interrupted before it committed: no file had been changed\n", txnKind(t.ID), t.ID)
		}
	}
	for _, p := range r.Removed {
		fmt.Fprintf(w, "[recover] removed %s, left by an interrupted write\n", p)
	}
}

// splitBackup returns how many of a transaction's targets are not in
// its backup folder, and that folder ("" for none): the backup a renewal,
// restore or import makes in the same transaction holds the old content
// of the files replaced, and counting its copies among the files that
// "now hold the new content" about doubled the number. The folder is
// that of a renewal.BackupManifestName target in renewal.BackupDirName.
func splitBackup(targets []string) (replaced int, backup string) {
	for _, p := range targets {
		if d := filepath.Dir(p); filepath.Base(p) == renewal.BackupManifestName && filepath.Base(filepath.Dir(d)) == renewal.BackupDirName {
			backup = d
		}
	}
	for _, p := range targets {
		if backup == "" || !strings.HasPrefix(p, backup+string(filepath.Separator)) {
			replaced++
		}
	}
	return replaced, backup
}

// LockOnly takes certctl's lock beside dir, without recovering anything:
// for --use-csr, which writes keys and CSRs under the CSR folder only. Two
// runs on the same folder could otherwise each write a key and leave a CSR
// for the other's. The lock of a CSR folder beside the certificate folder
// (/etc/kubernetes/csr) is the certificate folder's: then `certs import`
// waits for it too.
func LockOnly(ctx context.Context, dir string, wait time.Duration) (release func(), err error) {
	return acquireWriting(ctx, dir, lock.Wait{Timeout: wait})
}

// LockCSR takes the lock of a --use-csr folder (beside it, as LockOnly)
// and removes the temporary files that a killed write left in it and in
// its etcd folder: a run killed while it wrote a key leaves a copy of the
// new private key there, which nothing else would ever remove. What it
// removed goes to errOut. heldFor is a certificate folder whose lock the
// caller holds already (renew --use-csr), "" for none: when the CSR
// folder's lock is that one (a CSR folder beside the certificate folder),
// it is not taken twice.
func LockCSR(ctx context.Context, errOut io.Writer, dir string, wait time.Duration, heldFor string) (release func(), err error) {
	release = func() {}
	if heldFor == "" || !sameLock(dir, heldFor) {
		if release, err = LockOnly(ctx, dir, wait); err != nil {
			return nil, err
		}
	}
	if err := CleanTemp(errOut, []string{dir, filepath.Join(dir, "etcd")}); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// sameLock reports whether the folders a and b are guarded by the same
// lock file.
func sameLock(a, b string) bool {
	la, errA := lock.Beside(a)
	lb, errB := lock.Beside(b)
	return errA == nil && errB == nil && filepath.Clean(la) == filepath.Clean(lb)
}
