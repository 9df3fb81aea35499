package renew

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/phases/external"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// dryRun is `renew --dry-run`: the renewal's check pass (renewal.Options
// DryRun) over what is due, read consistently without the lock
// (node.DryRun), printed as a plan: what would be renewed, which files it
// would replace and which issuer would sign it: the CA on disk, the CSR
// files, or for --use-api the signer each CSR would name
// (apirenew.SignerNames: the inventory's certctl or kubernetes.io signer,
// or --signer-name). It makes no key and no CSR, asks nothing of the
// certificates API or any issuer, prunes and restarts nothing, and writes
// nothing; it says which installed certificates' pending keys the real
// run would remove, and with --use-api fails as the real run would
// before its first CSR (checkAPI).
func (r *run) dryRun(ctx context.Context, selected []renewal.Target, all bool, opts renewal.Options) error {
	o := &r.o
	switch {
	case o.CSRDir != "":
		opts.Issuer = external.Issuer{CSRDir: o.CSRDir}
	case o.API != nil:
		signers, err := apirenew.SignerNames(selected, r.signerNames())
		if err != nil {
			return err
		}
		opts.IssuedBy = func(t renewal.Target) string { return "the certificates API, signer " + signers[t.Name] }
	}
	opts.DryRun = true
	// With -o json|yaml the summary says what the real run would do
	// (dryRun: true), and is all that is printed on Out. node.DryRun
	// may plan again when the folders changed meanwhile: each plan
	// starts from the summary as it is now.
	r.summary.DryRun = true
	start := *r.summary
	return node.DryRun(ctx, o.ErrOut, o.Out, o.Cluster.CertificatesDir, []string{o.KubeconfigDir}, true, func(w io.Writer) error {
		*r.summary = start
		if o.Format.Structured() {
			w = io.Discard
		}
		r.o.Out, opts.Out = w, w
		if o.Quiet {
			opts.Out = io.Discard
		}
		// What the real run removes first (prunePending).
		st, _, stale := r.stalePending()
		for _, n := range stale {
			fmt.Fprintf(opts.Out, "[dry-run] The pending key of %s would be removed: its certificate is installed\n", n)
			r.summary.PrunedPendingKeys = append(r.summary.PrunedPendingKeys, prunedPendingKey{Name: n, File: st.KeyFile(n)})
		}
		// The restarts an earlier run left owed: the real run retries
		// them with --restart-control-plane, even with nothing due, and
		// warns without it.
		if err := r.readOwed(); err != nil {
			return err
		}
		due, err := r.due(selected, all)
		if err != nil {
			return err
		}
		res := &renewal.Result{}
		if len(due) > 0 {
			if res, err = renewal.Renew(ctx, due, opts); err != nil {
				return err
			}
			if o.API != nil {
				if err := r.checkAPI(due, opts); err != nil {
					return err
				}
			}
		}
		r.summary.addSkipped(res, o.Cluster.CertificatesDir, o.KubeconfigDir)
		refused, err := r.refusedEarlier(res)
		if err != nil {
			return err
		}
		for _, p := range res.Planned {
			fmt.Fprintf(w, "[dry-run] %s would be renewed: %s, from %s\n", p.Name, strings.Join(p.Files, ", "), p.Issuer)
			r.summary.Renewed = append(r.summary.Renewed, renewedEntry{Name: p.Name, Files: p.Files, NotAfter: p.NotAfter.UTC(), CappedToCA: p.Capped})
		}
		r.wouldSupersede(opts.Out, res.Planned, stale)
		// The components that read the planned files, as finish lists
		// them (restartNeeded), without those owed.
		needed := renewal.RestartsOf(func(yield func(string, []string) bool) {
			for _, p := range res.Planned {
				if !yield(p.Name, p.Restart) {
					return
				}
			}
		})
		for _, rs := range needed {
			r.summary.RestartNeeded = append(r.summary.RestartNeeded, rs.Component)
		}
		// As the real run warns before its restarts.
		r.warnNoManifest(needed)
		// The components in the real run's restart order (etcd first),
		// as finish lists and restarts them, with those owed when the
		// real run retries them.
		writeDryRunRestarts(w, renewal.RestartsOf(func(yield func(string, []string) bool) {
			for _, p := range res.Planned {
				if !yield(p.Name, p.Restart) {
					return
				}
			}
			if r.retrying() {
				for _, c := range r.owed.Components {
					if !yield("owed", []string{c.Component}) {
						return
					}
				}
			}
		}), o.Restart)
		if len(due) == 0 {
			fmt.Fprintf(w, "[dry-run] 0 certificate(s) would be renewed; nothing was written\n")
			return nil
		}
		if res.Unwritable != nil {
			// The plan, where it cannot be carried out: a read-only
			// file system is where one is read before remounting.
			fmt.Fprintf(w, "[dry-run] %d certificate(s) would be renewed, but the real run would fail before writing anything; nothing was written\n", len(res.Planned))
			return fmt.Errorf("the real run would fail: %w", res.Unwritable)
		}
		fmt.Fprintf(w, "[dry-run] %d certificate(s) would be renewed; nothing was written\n", len(res.Planned))
		if len(refused) == 0 {
			return r.dryRunEnd(w, res)
		}
		// As the real run ends: nothing renewed is an error, some is
		// exit status 6.
		err = fmt.Errorf("the CSR(s) of %s were refused in an earlier run, and the real run would not renew them: run it with --new-request=%s", strings.Join(refused, ", "), strings.Join(refused, ","))
		if len(res.Planned) == 0 {
			return err
		}
		return cmp.Or(r.dryRunEnd(w, res), error(&exitcode.Error{Code: exitcode.NotAllIssued, Err: err}))
	})
}

// refusedEarlier takes out of res.Planned, with --use-api, the
// certificates whose pending CSR an earlier run found denied or failed
// (apirenew.RefusedEarlier), unless --new-request renews them: the real
// run reports them at once and renews none of them. Each is said, skipped
// with reason csr-refused, and named in what it returns.
func (r *run) refusedEarlier(res *renewal.Result) ([]string, error) {
	api := r.o.API
	if api == nil || api.NewRequest || len(res.Planned) == 0 {
		return nil, nil
	}
	dir, err := apirenew.PendingDir(r.o.Cluster.CertificatesDir)
	if err != nil {
		return nil, err
	}
	node, err := nodeName(r.o.ConfigFile)
	if err != nil {
		return nil, err
	}
	algs := map[string]pki.KeyAlgorithm{}
	for _, p := range res.Planned {
		if !slices.Contains(api.NewRequestFor, p.Name) {
			algs[p.Name] = p.KeyAlgorithm
		}
	}
	found := apirenew.RefusedEarlier(dir, node, algs)
	var refused []string
	res.Planned = slices.DeleteFunc(res.Planned, func(p renewal.Planned) bool {
		rf, ok := found[p.Name]
		if !ok {
			return false
		}
		fmt.Fprintf(r.o.Out, "[dry-run] %s would not be renewed: its CSR %s %s in an earlier run: renew it with --new-request=%s\n", p.Name, rf.CSR, rf.Why, p.Name)
		r.summary.Skipped = append(r.summary.Skipped, skippedEntry{Name: p.Name, File: p.Files[0], Reason: reasonCSRRefused})
		refused = append(refused, p.Name)
		return true
	})
	return refused, nil
}

// dryRunEnd is the end of a dry run that planned res: the real run's exit
// status, with what the real run would say of it. In cron mode, what it
// would renew up to a CA that expires within the window fails the run
// with the CA error (finish: LimitedByCA); certificates skipped because
// their CA key is not on the node make it partly done (exit status 5).
func (r *run) dryRunEnd(w io.Writer, res *renewal.Result) error {
	o := &r.o
	if o.Threshold {
		now := o.Now()
		would := make([]renewal.Renewed, 0, len(res.Planned))
		for _, p := range res.Planned {
			would = append(would, renewal.Renewed{Target: p.Target, Files: p.Files, NotAfter: p.NotAfter, Capped: p.Capped})
		}
		for _, b := range renewal.LimitedByCA(would, o.Cluster.CertificatesDir, now, o.IfExpiresWithin) {
			r.limitedByCA(b, now)
		}
	}
	if r.caErr != nil {
		return r.caErr
	}
	if len(res.External) > 0 {
		var names []string
		for _, e := range res.External {
			names = append(names, e.Name)
		}
		fmt.Fprintf(w, "[dry-run] %d certificate(s) of an external CA would not be renewed: their CA key is not on this node; renew them with `certctl renew %s --use-api` (or --use-csr)\n", len(names), strings.Join(names, " "))
		return &exitcode.Error{Code: exitcode.ExternalCA}
	}
	return nil
}
