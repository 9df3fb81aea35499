package renew

import (
	"context"
	"errors"
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
// would replace and which issuer would sign it. It makes no key and no CSR,
// asks no issuer, prunes and restarts nothing, and writes nothing.
func (r *run) dryRun(ctx context.Context, selected []renewal.Target, all bool, opts renewal.Options) error {
	o := &r.o
	var signers map[string]string
	switch {
	case o.CSRDir != "":
		opts.Issuer = external.Issuer{CSRDir: o.CSRDir}
	case o.API != nil:
		var err error
		if signers, err = apirenew.SignerNames(selected, r.signerNames()); err != nil {
			return err
		}
		opts.Issuer = apiPlan{}
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
			from := p.Issuer
			if signers != nil {
				from = "the certificates API, signer " + signers[p.Name]
			}
			fmt.Fprintf(w, "[dry-run] %s would be renewed: %s, from %s\n", p.Name, strings.Join(p.Files, ", "), from)
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

// apiPlan stands, in a dry run, for the certificates API, which a dry run
// does not contact: the plan names each certificate's signer instead.
type apiPlan struct{}

func (apiPlan) Issue(context.Context, []renewal.Request) ([]renewal.Issued, error) {
	return nil, errors.New("renew: a dry run obtains no certificate")
}
