package apirenew

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// Superseded returns the files that remove, in the transaction that
// replaces their certificates another way (from the CAs on disk), the
// pending keys of the certificates called names and their refusal notes,
// and the names whose key it removes. The CSR of such a key asks to renew
// a certificate that is replaced already: a later --use-api run would
// install its certificate over the new one, or wait for its approval, and
// until then a private key would lie there that no certificate needs.
// Each file is removed only while it holds what it holds now (txn), so
// that a key another run saved since stays. A name with no pending key,
// or with something else than a file in its place (the --use-api run
// says so), gives nothing.
func Superseded(pendingDir string, names []string) ([]txn.File, []string) {
	p := pending{dir: pendingDir}
	var files []txn.File
	var removed []string
	for _, n := range names {
		fi, err := os.Lstat(p.path(n))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		data, err := pki.ReadFile(p.path(n))
		if err != nil {
			continue
		}
		files = append(files, txn.File{Target: p.path(n), Remove: true, Data: data})
		if note, err := pki.ReadFile(p.refusedPath(n)); err == nil {
			files = append(files, txn.File{Target: p.refusedPath(n), Remove: true, Data: note})
		}
		removed = append(removed, n)
	}
	return files, removed
}

// PrunedKey is a pending key of --use-api removed (or, in a dry run,
// that would be): its certificate is installed (Stale), or replaced
// another way (SupersededBy). It is the prunedPendingKeys entry of the
// summaries of renew, certs import and restore.
type PrunedKey struct {
	Name string `json:"name"` // the certificate: apiserver, admin.conf
	File string `json:"file"` // the key removed: /etc/kubernetes/.certctl-pending/apiserver.key
}

// SupersededBy is the one rule of every run that replaces certificates
// otherwise than --use-api does (renew from the CAs on disk, certs
// import, restore): the files that remove, in its transaction, the
// pending keys and refusal notes (Superseded) of those of targets whose
// file (renewal.Target.File) is among written, the files it writes, and
// the keys they are. A certificate folder with no pending-key folder
// beside it, or none that can be named, gives nothing.
func SupersededBy(certDir, kubeconfigDir string, targets []renewal.Target, written []string) ([]txn.File, []PrunedKey) {
	dir, err := PendingDir(certDir)
	if err != nil {
		return nil, nil
	}
	// The files named as the run named them, absolute (restore, import)
	// or as given (renew).
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	var wrote []string
	for _, w := range written {
		wrote = append(wrote, abs(w))
	}
	var names []string
	for _, t := range targets {
		if slices.Contains(wrote, abs(t.File(certDir, kubeconfigDir))) && !slices.Contains(names, t.Name) {
			names = append(names, t.Name)
		}
	}
	files, removed := Superseded(dir, names)
	var keys []PrunedKey
	for _, n := range removed {
		keys = append(keys, PrunedKey{Name: n, File: pending{dir: dir}.path(n)})
	}
	return files, keys
}

// SupersededLine is the line that says that the pending key of name was
// removed (SupersededBy), or with dryRun would be, by the run whose lines
// start with tag ("renew", "import", "restore") because its certificate
// is how ("renewed from the CA on disk", "imported", ...) instead.
func SupersededLine(tag, name, how string, dryRun bool) string {
	if dryRun {
		return fmt.Sprintf("[dry-run] The pending key of %s would be removed, and its CSR's request with it: %s would be %s instead", name, name, how)
	}
	return fmt.Sprintf("[%s] Removed the pending key of %s, and its CSR's request with it: %s is %s instead; a later --use-api run makes a new key and CSR", tag, name, name, how)
}

// RemoveEmptyPendingDir removes the pending-key folder of certDir once a
// run's removals (SupersededBy) left it empty; it stays while it holds
// other keys.
func RemoveEmptyPendingDir(certDir string) {
	if dir, err := PendingDir(certDir); err == nil {
		pending{dir: dir}.removeIfEmpty()
	}
}
