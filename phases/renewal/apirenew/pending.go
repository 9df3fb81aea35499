package apirenew

import (
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/certdir"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/pki"
)

// PendingDirName is the folder, beside the certificate folder, that keeps
// the private key of each CSR whose certificate is not installed yet, so
// that a run stopped while it waited (a timeout, Ctrl-C, a kill) finds its
// key, and so its CSR, again.
const PendingDirName = certdir.PendingKeys

// PendingDir returns the pending-key folder of a certificate folder:
// PendingDirName in its parent (/etc/kubernetes/.certctl-pending for
// /etc/kubernetes/pki), beside the transaction folder and out of the
// folders that kube-apiserver and etcd read.
func PendingDir(certDir string) (string, error) {
	return certdir.Beside(certDir, PendingDirName)
}

// pendingDirMode: the folder holds private keys.
const pendingDirMode fs.FileMode = 0o700

// pending is the pending-key folder: one TARGET.key per certificate
// ("apiserver.key", "admin.conf.key"), mode 0600.
type pending struct{ dir string }

func (p pending) path(target string) string { return filepath.Join(p.dir, target+".key") }

// check refuses a pending-key folder that is not a folder (a file, say),
// before anything is read or written: no key could be saved in it; or one
// that other users may write (certdir.CheckPrivate), or, a link, whose
// target's parents they may (certdir.CheckLinkedParents).
func (p pending) check() error {
	fi, err := os.Stat(p.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("read pending-key folder %s: %w", p.dir, err)
	case !fi.IsDir():
		return &placeError{fmt.Sprintf("%s is not a folder, and certctl keeps in it the keys of the CSRs it has not installed yet", p.dir)}
	}
	return certdir.CheckPrivateLinkable(p.dir, "pending-key folder", "a key of their own, whose certificate the API would issue and certctl install")
}

// placeError is a pending key or pending-key folder of the wrong kind:
// --new-request could not replace it, only the user can move it.
type placeError struct{ what string }

func (e *placeError) Error() string {
	return e.what + ": move it away, then run the same command again; nothing was changed"
}

// load returns the pending key of target, or nil when there is none. A
// file that cannot be read or parsed is an error naming it; the caller
// says what to do (--new-request replaces it). A folder in its place is
// a *placeError: no key can be renamed over it.
func (p pending) load(target string) (crypto.Signer, error) {
	path := p.path(target)
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err == nil && fi.IsDir():
		return nil, &placeError{fmt.Sprintf("%s is a folder, not the pending key file of %s", path, target)}
	}
	return pki.ReadKeyFile(path)
}

// loadFor is load for a run that makes a new key and CSR for target with
// fresh (--new-request): a pending key that cannot be read is then
// replaced, and returned as replaced (k nil), not as err. Without fresh
// it is err, which says to run again with --new-request; a *placeError
// is err either way.
func (p pending) loadFor(target string, fresh bool) (k crypto.Signer, replaced, err error) {
	k, err = p.load(target)
	var place *placeError
	switch {
	case errors.As(err, &place):
		return nil, nil, err
	case err != nil && !fresh:
		return nil, nil, fmt.Errorf("%w: run again with --new-request=%s for a new key and CSR, or remove it", err, target)
	case err != nil:
		return nil, err, nil
	}
	return k, nil, nil
}

// save writes the pending key of target atomically (durable once it
// returns), before its CSR exists: a CSR whose key was lost could never
// be installed.
func (p pending) save(target string, key crypto.Signer) error {
	data, err := pki.MarshalPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.dir, pendingDirMode); err != nil {
		return fmt.Errorf("create pending-key folder %s: %w", p.dir, err)
	}
	if err := atomicfile.WriteFile(p.path(target), data, pki.KeyMode); err != nil {
		return fmt.Errorf("write pending key of %s: %w", target, err)
	}
	// A refusal was of the previous key's CSR.
	return p.unmarkRefused(target)
}

// create saves key as the pending key of target unless one exists: the
// file is linked into place, which fails when the name is taken, so two
// runs never replace each other's key. It returns the key already there
// (nil when key was saved); one that cannot be read is an error.
func (p pending) create(target string, key crypto.Signer) (crypto.Signer, error) {
	data, err := pki.MarshalPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(p.dir, pendingDirMode); err != nil {
		return nil, fmt.Errorf("create pending-key folder %s: %w", p.dir, err)
	}
	for try := 0; ; try++ {
		err := atomicfile.Create(p.path(target), data, pki.KeyMode)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || try > 0 {
			return nil, fmt.Errorf("write pending key of %s: %w", target, err)
		}
		theirs, err := p.load(target)
		if err != nil || theirs != nil {
			return theirs, err
		}
		// Removed since (the other run installed its certificate): try
		// once more.
	}
	// A refusal was of the previous key's CSR.
	return nil, p.unmarkRefused(target)
}

// remove deletes the pending key of target if it is still the key pub (a
// concurrent run may have replaced it), then the folder if it is empty.
func (p pending) remove(target string, pub crypto.PublicKey) error {
	k, err := p.load(target)
	if err != nil || k == nil {
		return err
	}
	if !pki.SamePublicKey(k.Public(), pub) {
		return nil
	}
	if err := os.Remove(p.path(target)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove pending key of %s: %w", target, err)
	}
	if err := p.unmarkRefused(target); err != nil {
		return err
	}
	p.removeIfEmpty()
	return nil
}

// removeIfEmpty removes the pending-key folder when it is an empty folder:
// os.Remove fails while it holds other keys, which is what we want. A
// symbolic link in its place (to a folder on another disk) is the user's
// and stays: unlinking it would succeed whatever its target holds, and
// hide the keys left there from the next run.
func (p pending) removeIfEmpty() {
	if fi, err := os.Lstat(p.dir); err == nil && fi.IsDir() {
		_ = os.Remove(p.dir)
	}
}

// removal returns the files that remove the pending key of target, and
// its refusal note, in the transaction that installs the certificate of
// key pub (renewal.Issued.Remove): each only while it holds what it holds
// now, so that a key another run saved since (--new-request) stays. None
// when the pending key is not pub's or cannot be read: Installed, or the
// next run (Stale), sees to it then.
func (p pending) removal(target string, pub crypto.PublicKey) []txn.File {
	data, err := os.ReadFile(p.path(target))
	if err != nil {
		return nil
	}
	k, err := pki.ParsePrivateKey(data)
	if err != nil || !pki.SamePublicKey(k.Public(), pub) {
		return nil
	}
	out := []txn.File{{Target: p.path(target), Remove: true, Data: data}}
	if note, err := os.ReadFile(p.refusedPath(target)); err == nil {
		out = append(out, txn.File{Target: p.refusedPath(target), Remove: true, Data: note})
	}
	return out
}

// refusedPath is where a run notes that the CSR of target's pending key
// was denied or failed: TARGET.refused, beside the key. A later run then
// neither waits for that CSR nor creates it again once the cleaner of
// kube-controller-manager has deleted it (an hour after the refusal): it
// says so, and asks for --new-request NAME.
func (p pending) refusedPath(target string) string { return filepath.Join(p.dir, target+".refused") }

// A refusal note is three lines: the CSR's name, why it was refused, as
// the run that refused it said it ("was denied (reason ...)"), on one
// line (pki.OneLine), and "kind: K" (refusalKinds), which says how, so
// that a later run does not tell it from the words. A note written before
// the kind line existed has only the first two: legacyKind reads it as
// those versions did.
const refusalKindField = "kind: "

// refusalKinds are the kinds a refusal note names, by the phase of a
// refused CSR.
// A certctl that does not know "changed" reads it as its words say
// (legacyKind): rejected, as they start with rejectedPrefix.
var refusalKinds = map[phase]string{phaseDenied: "denied", phaseFailed: "failed", phaseRejected: "rejected", phaseChanged: "changed"}

// markRefused notes that CSR csr of target's pending key was refused (ph:
// phaseDenied, phaseFailed, phaseRejected or phaseChanged), and why ("was denied
// (reason ...)").
func (p pending) markRefused(target, csr string, ph phase, why string) error {
	note := csr + "\n" + pki.OneLine(why) + "\n" + refusalKindField + refusalKinds[ph] + "\n"
	if err := atomicfile.WriteFile(p.refusedPath(target), []byte(note), 0o600); err != nil {
		return fmt.Errorf("note that CSR %s for %s was refused: %w", csr, target, err)
	}
	return nil
}

// refused returns what markRefused noted for target when it is about CSR
// csr (the pending key's): how it was refused and why; ok is false when
// there is no such note.
func (p pending) refused(target, csr string) (ph phase, why string, ok bool) {
	b, err := os.ReadFile(p.refusedPath(target))
	if err != nil {
		return 0, "", false
	}
	name, rest, ok := strings.Cut(strings.TrimRight(string(b), "\n"), "\n")
	if !ok || name != csr || rest == "" {
		return 0, "", false
	}
	why, kind, cut := strings.Cut(rest, "\n"+refusalKindField)
	if !cut {
		return legacyKind(rest), rest, true
	}
	for ph, k := range refusalKinds {
		if kind == k {
			return ph, why, true
		}
	}
	// A kind this version does not know (a later certctl's): refused
	// all the same.
	return legacyKind(why), why, true
}

// legacyKind is how a refusal note without a kind line (written by an
// older certctl) was refused, as those versions read it: failed, or
// rejected when its certctl said so in its words (rejectedPrefix).
func legacyKind(why string) phase {
	if strings.HasPrefix(why, rejectedPrefix) {
		return phaseRejected
	}
	return phaseFailed
}

func (p pending) unmarkRefused(target string) error {
	if err := os.Remove(p.refusedPath(target)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", p.refusedPath(target), err)
	}
	return nil
}
