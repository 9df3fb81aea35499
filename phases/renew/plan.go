package renew

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/certctl/certctl/phases/external"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
)

// dryRun is `renew --dry-run`: the renewal's check pass (renewal.Options
// DryRun) over what is due, read consistently without the lock
// (node.DryRun), printed as a plan: what would be renewed, which files it
// would replace and which issuer would sign it: the CA on disk, the CSR
// files, or for --use-api the signer each CSR would name
// (apirenew.SignerNames: the inventory's certctl or kubernetes.io signer,
// or --signer-name). It makes no key and no CSR, asks nothing of the
// certificates API or any issuer, prunes and restarts nothing, and writes
// nothing.
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
	return node.DryRun(ctx, o.ErrOut, o.Out, o.Cluster.CertificatesDir, []string{o.KubeconfigDir}, true, func(w io.Writer) error {
		r.o.Out, opts.Out = w, w
		if o.Quiet {
			opts.Out = io.Discard
		}
		due, err := r.due(selected, all)
		if err != nil || len(due) == 0 {
			return err
		}
		res, err := renewal.Renew(ctx, due, opts)
		if err != nil {
			return err
		}
		var restart []string
		for _, p := range res.Planned {
			fmt.Fprintf(w, "[dry-run] %s would be renewed: %s, from %s\n", p.Name, strings.Join(p.Files, ", "), p.Issuer)
			for _, c := range p.Restart {
				if !slices.Contains(restart, c) {
					restart = append(restart, c)
				}
			}
		}
		if len(restart) > 0 {
			what := "would have to be restarted"
			if o.Restart.Enabled {
				what = "would be restarted (--restart-control-plane)"
			}
			fmt.Fprintf(w, "[dry-run] %s %s\n", strings.Join(restart, ", "), what)
		}
		fmt.Fprintf(w, "[dry-run] %d certificate(s) would be renewed; nothing was written\n", len(res.Planned))
		return nil
	})
}
