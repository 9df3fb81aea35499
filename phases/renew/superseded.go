package renew

import (
	"fmt"
	"io"
	"slices"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// withSuperseded makes the transaction of a renewal from the CAs on disk
// or of a restore (extraFor: the files it writes besides, which it keeps)
// also remove the pending keys of --use-api, and their refusal notes, of
// the certificates of targets it replaces (apirenew.SupersededBy): the
// CSR of such a key asks to renew a certificate that this run replaces,
// and a later --use-api run would install that CSR's certificate over the
// new one, while the key would lie there meanwhile. In the same
// transaction, a kill leaves neither the new certificate with the old
// request nor the request without the certificate. The keys go to
// r.superseded, said once the transaction has committed (saySuperseded),
// or by a dry run (which calls extraFor too, and writes nothing).
func (r *run) withSuperseded(targets []renewal.Target, extraFor func([]string) ([]txn.File, error)) func([]string) ([]txn.File, error) {
	return func(replaced []string) ([]txn.File, error) {
		var files []txn.File
		if extraFor != nil {
			var err error
			if files, err = extraFor(replaced); err != nil {
				return nil, err
			}
		}
		more, removed := apirenew.SupersededBy(r.o.Cluster.CertificatesDir, r.o.KubeconfigDir, targets, replaced)
		r.superseded = removed
		return append(files, more...), nil
	}
}

// saySuperseded says, with tag and how (apirenew.SupersededLine), which
// pending keys the run's transaction removed (withSuperseded), or with
// dryRun would remove, and lists them in the summary, once it has
// committed (done: it replaced any file); then removes the pending-key
// folder if that left it empty.
func (r *run) saySuperseded(w io.Writer, tag, how string, done bool) {
	if len(r.superseded) == 0 || !done {
		return
	}
	for _, k := range r.superseded {
		if w != nil {
			fmt.Fprintln(w, apirenew.SupersededLine(tag, k.Name, how, r.o.DryRun))
		}
		r.summary.PrunedPendingKeys = append(r.summary.PrunedPendingKeys, k)
	}
	if !r.o.DryRun {
		apirenew.RemoveEmptyPendingDir(r.o.Cluster.CertificatesDir)
	}
}

// wouldSupersede says, in a dry run from the CAs on disk, which pending
// keys the real run's transaction would remove (withSuperseded): those of
// the planned certificates, but the stale ones, said already.
func (r *run) wouldSupersede(w io.Writer, planned []renewal.Planned, stale []string) {
	if r.o.API != nil || r.o.CSRDir != "" {
		return
	}
	var targets []renewal.Target
	var files []string
	for _, p := range planned {
		if !slices.Contains(stale, p.Name) {
			t := renewal.TargetOf(pki.Kubeadm(), p.Name)
			targets = append(targets, t)
			files = append(files, t.File(r.o.Cluster.CertificatesDir, r.o.KubeconfigDir))
		}
	}
	_, r.superseded = apirenew.SupersededBy(r.o.Cluster.CertificatesDir, r.o.KubeconfigDir, targets, files)
	r.saySuperseded(w, "renew", "renewed from the CA on disk", true)
}
