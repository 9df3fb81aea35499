package apirenew

import (
	"os"

	"github.com/certctl/certctl/internal/txn"
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
