package txn

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/certctl/certctl/internal/atomicfile"
)

// Outcome is what RecoverIn did with one interrupted transaction.
type Outcome struct {
	ID string
	// Committed is true when the transaction had committed and was rolled
	// forward: its Targets now hold the new content. When false, it was
	// discarded and no target had been touched.
	Committed bool
	Targets   []string
	// Removes are the files it removes (File.Remove), not in Targets:
	// gone now when Committed, as they were when it was discarded.
	Removes []string
}

// Report is what RecoverIn did.
type Report struct {
	Transactions []Outcome
	// Removed lists leftover temporary files of internal/atomicfile that
	// RecoverIn removed from the targets' folders.
	Removed []string
}

// Scope is where the transactions of a root may write: files directly in
// Folders, and files anywhere under Trees. Recovery trusts no manifest
// beyond it (issue 13, defect 7): a manifest, or the list of folders of an
// uncommitted transaction, that names anything else is refused and left
// for a person, and nothing is written.
type Scope struct {
	Folders, Trees []string
	// Files are single files it may write too, wherever they are (the
	// record of the restarts a renewal owes, beside the certificate
	// folder, which its transaction writes).
	Files []string
}

// allows reports whether s lets a transaction write path.
func (s Scope) allows(path string) bool {
	if !filepath.IsAbs(path) || filepath.Clean(path) != path {
		return false
	}
	return slices.ContainsFunc(s.Files, func(f string) bool { return path == filepath.Clean(f) }) ||
		slices.ContainsFunc(s.Folders, func(f string) bool { return filepath.Dir(path) == filepath.Clean(f) }) ||
		slices.ContainsFunc(s.Trees, func(t string) bool {
			rel, err := filepath.Rel(filepath.Clean(t), path)
			return err == nil && filepath.IsLocal(rel)
		})
}

// RecoverIn finishes or discards every transaction left in root by a process
// that died, oldest first, and removes root when it is empty. It touches
// nothing outside s: a transaction that names a file elsewhere stops it with
// an error, that transaction left as it is. The caller must hold certctl's
// lock (internal/lock). A root that does not exist is not an error; one
// that another user may write is refused (checkRoot), nothing recovered.
// Running it again after it was itself interrupted is safe.
func RecoverIn(root string, s Scope) (*Report, error) {
	r := &Report{}
	if err := checkRoot(root); err != nil {
		return r, err
	}
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("read transaction folder %s: %w", root, err)
	}
	// IDs start with a UTC timestamp: ReadDir's name order is time order.
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		if !e.IsDir() {
			// Not ours to judge (a manifest temp file is inside a
			// transaction folder, never here): leave it and say so.
			return r, fmt.Errorf("unexpected file %s in the transaction folder: move it away and run certctl again", p)
		}
		if strings.HasSuffix(e.Name(), finishedSuffix) {
			// Every target was in place; only its removal was
			// interrupted. Nothing to report.
			if err := removeAll(p); err != nil {
				return r, fmt.Errorf("remove finished transaction %s: %w", p, err)
			}
			continue
		}
		o, removed, err := recoverOne(root, p, s)
		r.Removed = append(r.Removed, removed...)
		if err != nil {
			return r, err
		}
		r.Transactions = append(r.Transactions, o)
	}
	_ = os.Remove(root) // fails while root is not empty, which is what we want
	return r, nil
}

// Applying reports whether a transaction in root is committed and not
// yet all in place: its targets are being replaced one by one (by Commit,
// or RecoverIn), some already new, others still old. A reader that saw
// them then must read them again.
func Applying(root string) bool {
	entries, err := os.ReadDir(root)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasSuffix(e.Name(), finishedSuffix) {
			continue
		}
		if _, err := os.Lstat(filepath.Join(root, e.Name(), manifestName)); err == nil {
			return true
		}
	}
	return false
}

// OutsideError is the error of a transaction, in folder Dir, that names
// Path, outside the Scope of the recovery: it is left untouched.
type OutsideError struct {
	Dir, Path string
	Scope     Scope
	// Targets are every target of the transaction when it had
	// committed (nil when not): part of them may be in place, and the
	// caller may tell from them what made it, and so which command
	// finishes it.
	Targets []string
}

func (e *OutsideError) Error() string {
	return fmt.Sprintf("transaction %s names %q, outside the folders certctl manages for it (files in %q, anything under %q): certctl left it untouched and changed nothing; find out what made it, then move %s away", e.Dir, e.Path, e.Scope.Folders, e.Scope.Trees, e.Dir)
}

func recoverOne(root, dir string, s Scope) (Outcome, []string, error) {
	o := Outcome{ID: filepath.Base(dir)}
	outside := func(path string) error { return &OutsideError{Dir: dir, Path: path, Scope: s} }
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		removed, err := discardIn(dir, s, outside)
		return o, removed, err
	}
	if err != nil {
		return o, nil, fmt.Errorf("read transaction manifest in %s: %w", dir, err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		// atomicfile wrote it whole or not at all; a damaged one means
		// the disk lost data, and guessing could install the wrong files.
		return o, nil, fmt.Errorf("parse transaction manifest %s: %w: certctl cannot tell which files it replaced; restore them from the latest backup, then remove %s", filepath.Join(dir, manifestName), err, dir)
	}
	if m.Version != manifestVersion && m.Version != manifestVersionRemove {
		return o, nil, fmt.Errorf("transaction %s has manifest version %d, this certctl reads %d and %d: finish it with the certctl that started it", dir, m.Version, manifestVersion, manifestVersionRemove)
	}
	for _, e := range m.Entries {
		if e.Remove {
			o.Removes = append(o.Removes, e.Target)
		} else {
			o.Targets = append(o.Targets, e.Target)
		}
	}
	for _, e := range m.Entries {
		// A removal is refused outside s as a write is: unlink(2) of a
		// file certctl does not manage is as bad as a rename over it.
		if !s.allows(e.Target) {
			return o, nil, &OutsideError{Dir: dir, Path: e.Target, Scope: s, Targets: o.Targets}
		}
		if e.Remove {
			if e.Staged != "" {
				return o, nil, &OutsideError{Dir: dir, Path: filepath.Join(dir, e.Staged), Scope: s, Targets: o.Targets}
			}
			continue
		}
		if e.Staged == "" || e.Staged != filepath.Base(e.Staged) || e.Staged == ".." || e.Staged[0] == '.' {
			return o, nil, &OutsideError{Dir: dir, Path: filepath.Join(dir, e.Staged), Scope: s, Targets: o.Targets}
		}
		if e.Beside != "" && !isTempOf(e.Beside, e.Target) {
			return o, nil, &OutsideError{Dir: dir, Path: filepath.Join(filepath.Dir(e.Target), e.Beside), Scope: s, Targets: o.Targets}
		}
	}
	if err := changedTargets(dir, m); err != nil {
		return o, nil, err
	}
	o.Committed = true
	if err := apply(dir, m, true); err != nil {
		return o, nil, fmt.Errorf("finish interrupted transaction %s: %w", dir, err)
	}
	// A copy across file systems (see apply) may have left a temporary
	// file beside its target when it was killed.
	var removed, cleaned []string
	for _, e := range m.Entries {
		// Not beside a removed file: nothing was copied there, and its
		// folder may be another process's (a pending-key folder, where a
		// renew --use-api waiting for its CSRs, without the lock, may be
		// writing a key).
		if e.Remove {
			continue
		}
		if d := filepath.Dir(e.Target); !slices.Contains(cleaned, d) {
			cleaned = append(cleaned, d)
			rm, err := atomicfile.CleanTemp(d)
			removed = append(removed, rm...)
			if err != nil {
				return o, removed, err
			}
		}
	}
	return o, removed, finishCommitted(root, dir)
}

// discardIn discards the transaction in dir, which had not committed: no
// target was touched. It removes the temporary files Commit wrote beside
// targets and the folders it made for new targets (before the lists,
// which a kill in between would otherwise lose), then the staged files,
// and returns the temporary files it removed. A list that names anything
// outside s, but a temporary file named with this transaction's ID
// (ownTemp), stops it before it removes anything.
func discardIn(dir string, s Scope, outside func(string) error) ([]string, error) {
	var temps, folders []string
	if data, err := os.ReadFile(filepath.Join(dir, tempsName)); err == nil {
		_ = json.Unmarshal(data, &temps) // a list cut by a kill: its files were not written yet
	}
	if data, err := os.ReadFile(filepath.Join(dir, foldersName)); err == nil {
		_ = json.Unmarshal(data, &folders)
	}
	for _, p := range temps {
		if !s.allowsTemp(p) && !ownTemp(p, filepath.Base(dir)) {
			return nil, outside(p)
		}
	}
	for _, f := range folders {
		if !s.allows(f) {
			return nil, outside(f)
		}
	}
	removed := removeTemps(temps)
	removeFolders(folders)
	if err := os.RemoveAll(dir); err != nil {
		return removed, fmt.Errorf("discard interrupted transaction %s: %w", dir, err)
	}
	return removed, nil
}

// ownTemp reports whether path has the name only transaction id gives a
// temporary file (tempName: ".NAME.tmp-ID-N"), wherever it is: a command
// whose scope does not reach the folder of a target of that transaction
// (an external etcd's files that `certs download` wrote, on another file
// system) may still remove it, instead of refusing until that command
// runs again.
func ownTemp(path, id string) bool {
	base := filepath.Base(path)
	rest, ok := strings.CutPrefix(base, atomicfile.TempPrefix)
	if !ok || !atomicfile.IsTemp(base) {
		return false
	}
	i := strings.LastIndex(rest, ".tmp-"+id+"-")
	if i < 0 {
		return false
	}
	n := rest[i+len(".tmp-"+id+"-"):]
	return n != "" && strings.Trim(n, "0123456789") == ""
}

// allowsTemp reports whether s lets a transaction write path as a
// temporary file beside one of its targets (stageBeside).
func (s Scope) allowsTemp(path string) bool {
	if !atomicfile.IsTemp(filepath.Base(path)) {
		return false
	}
	return s.allows(path) || slices.ContainsFunc(s.Files, func(f string) bool {
		f = filepath.Clean(f)
		return filepath.Dir(path) == filepath.Dir(f) && isTempOf(filepath.Base(path), f)
	})
}

// contentOf is what entry.Was records of path: the SHA-256 of its
// content, wasAbsent when it does not exist, "" when it cannot be read
// (not a regular file: Commit's preflight refuses it).
func contentOf(path string) string {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return wasAbsent
	case err != nil || !st.Mode().IsRegular():
		return ""
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return digest(data)
}

// changedTargets refuses, before anything is replaced, a committed
// transaction whose targets not replaced yet (their staged file is still
// there) hold something else than they held when it was staged or than
// its new content: after the interruption, another tool wrote them
// (`kubeadm certs renew` writes a certificate and its key in place). Rolled
// forward, the transaction would put its key beside that tool's
// certificate. A target that is gone gets the new content, as before.
func changedTargets(dir string, m manifest) error {
	for _, e := range m.Entries {
		if e.Remove || e.Was == "" {
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, e.Staged)); err != nil {
			continue // renamed into place already
		}
		now := contentOf(e.Target)
		if now == wasAbsent || now == e.Was || now == e.SHA256 {
			continue
		}
		return fmt.Errorf("finish interrupted transaction %s: %s changed after the transaction was staged (another tool wrote it since certctl was interrupted, kubeadm certs renew say): certctl replaced nothing more, as its files would no longer match the others; check the certificates and keys (certctl check-expiration), restore them from the latest backup if needed, then move %s away", dir, e.Target, dir)
	}
	return nil
}
