package renew

import (
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
)

// withSuperseded makes the transaction of a renewal from the CAs on disk
// (extraFor: the files it writes besides, which it keeps) also remove the
// pending keys of --use-api, and their refusal notes, of the selected
// certificates it replaces (apirenew.Superseded): the CSR of such a key
// asks to renew a certificate that this renewal replaces, and a later
// --use-api run would install that CSR's certificate over the new one,
// while the key would lie there meanwhile. In the same transaction, a
// kill leaves neither the new certificate with the old request nor the
// request without the certificate. The names go to r.superseded, said
// once the transaction has committed (saySuperseded).
func (r *run) withSuperseded(selected []renewal.Target, extraFor func([]string) ([]txn.File, error)) func([]string) ([]txn.File, error) {
	dir, err := apirenew.PendingDir(r.o.Cluster.CertificatesDir)
	if err != nil {
		return extraFor
	}
	return func(replaced []string) ([]txn.File, error) {
		var files []txn.File
		if extraFor != nil {
			var err error
			if files, err = extraFor(replaced); err != nil {
				return nil, err
			}
		}
		var names []string
		for _, t := range selected {
			if slices.Contains(replaced, t.File(r.o.Cluster.CertificatesDir, r.o.KubeconfigDir)) {
				names = append(names, t.Name)
			}
		}
		more, removed := apirenew.Superseded(dir, names)
		r.superseded = removed
		r.supersededDir = dir
		return append(files, more...), nil
	}
}

// saySuperseded says which pending keys the renewal's transaction
// removed (withSuperseded), and lists them in the summary, once it has
// committed; then removes the pending-key folder if that left it empty.
func (r *run) saySuperseded(res *renewal.Result) {
	if len(r.superseded) == 0 || len(res.Renewed) == 0 {
		return
	}
	stale := apirenew.Stale{PendingDir: r.supersededDir}
	for _, n := range r.superseded {
		fmt.Fprintf(r.progressOut(), "[renew] Removed the pending key of %s, and its CSR's request with it: %s is renewed from the CA on disk instead; a later --use-api run makes a new key and CSR\n", n, n)
		r.summary.PrunedPendingKeys = append(r.summary.PrunedPendingKeys, prunedPendingKey{Name: n, File: stale.KeyFile(n)})
	}
	_ = os.Remove(r.supersededDir) // fails while it holds other keys, which is what we want
}

// wouldSupersede says, in a dry run from the CAs on disk, which pending
// keys the real run's transaction would remove (withSuperseded): those of
// the planned certificates, but the stale ones, said already.
func (r *run) wouldSupersede(w io.Writer, planned []renewal.Planned, stale []string) {
	if r.o.API != nil || r.o.CSRDir != "" {
		return
	}
	dir, err := apirenew.PendingDir(r.o.Cluster.CertificatesDir)
	if err != nil {
		return
	}
	var names []string
	for _, p := range planned {
		if !slices.Contains(stale, p.Name) {
			names = append(names, p.Name)
		}
	}
	_, found := apirenew.Superseded(dir, names)
	st := apirenew.Stale{PendingDir: dir}
	for _, n := range found {
		fmt.Fprintf(w, "[dry-run] The pending key of %s would be removed, and its CSR's request with it: %s would be renewed from the CA on disk instead\n", n, n)
		r.summary.PrunedPendingKeys = append(r.summary.PrunedPendingKeys, prunedPendingKey{Name: n, File: st.KeyFile(n)})
	}
}
