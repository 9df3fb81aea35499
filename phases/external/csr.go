package external

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// Requested is the request written (or found already written) for a target.
type Requested struct {
	renewal.Target
	Request string // the request file
	Files   []string
	// Kept is true when a key and CSR made for the same certificate by an
	// earlier run were kept, so that a CSR already handed out stays valid.
	Kept bool
}

// CSRResult is what WriteCSRs did.
type CSRResult struct {
	Requested []Requested
	Missing   []renewal.Target // skipped: their file does not exist
}

// WriteCSRs writes a key, CSR and request file into csrDir for each
// target, with the subject, SANs and extended key usages of the target's
// current certificate, as `renew` would renew it, and the CA that signed it.
// No CA key is needed. Every target is read and checked first, as renew
// does (and with its messages): a bad file anywhere fails the run before
// anything is written. Existing files in csrDir are kept when they are a
// key and CSR for the same certificate; other existing files are an error.
// Of o it uses CertDir, KubeconfigDir and Rand, which are required, and
// KeyAlgorithm, Validity, SkipMissing, SANs, DropSANs, Now, Out and Warn
// (the warning lines; Out when nil).
func WriteCSRs(ctx context.Context, targets []renewal.Target, csrDir string, o renewal.Options) (*CSRResult, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Warn == nil {
		o.Warn = o.Out
	}
	// A CSR folder in the node's folders is refused, as init-phase does.
	if err := phases.CheckCSRDir(csrDir, o.CertDir, o.KubeconfigDir); err != nil {
		return nil, err
	}
	res := &CSRResult{}
	env := &phases.Env{Cluster: &config.Cluster{CertificatesDir: o.CertDir}, KubeconfigDir: o.KubeconfigDir,
		OwnPlan: true, Now: o.Now, Rand: o.Rand}
	if err := phases.Run(ctx, env, csrPhases(targets, csrDir, o, res)); err != nil {
		if ctx.Err() != nil && len(res.Requested) > 0 {
			// A signal between two targets: the live certificates are
			// untouched; what is written is kept, and the same command
			// resumes from it.
			return nil, &exitcode.Changed{Done: fmt.Sprintf("wrote the keys and CSRs of %d certificate(s) into %s, and nothing else (the live certificates are untouched): run the same command again to write the rest", len(res.Requested), csrDir), Err: err}
		}
		return nil, err
	}
	return res, nil
}

// csrPhases are WriteCSRs as phases of the phase runner: "csr/NAME" per
// target reads and checks it and its files in the CSR folder in the check
// pass, and writes its key, CSR and request file in the real pass.
func csrPhases(targets []renewal.Target, csrDir string, o renewal.Options, res *CSRResult) []phases.Phase {
	ro := o
	ro.Issuer, ro.Out, ro.Warn = Issuer{CSRDir: csrDir}, io.Discard, io.Discard
	plans := map[string]*csrPlan{}
	var ps []phases.Phase
	for _, t := range targets {
		ps = append(ps, phases.Phase{Name: "csr/" + t.Name, OwnErrors: true,
			Run: func(_ context.Context, env *phases.Env) error {
				if !env.Checking() {
					if p := plans[t.Name]; p != nil {
						rq, err := p.write(o)
						if err != nil {
							return fmt.Errorf("write a CSR for %s: %w", t.Name, err)
						}
						res.Requested = append(res.Requested, rq)
					}
					return nil
				}
				reqs, err := renewal.Requests([]renewal.Target{t}, ro)
				if err != nil {
					return err
				}
				if len(reqs) == 0 { // missing, with SkipMissing
					res.Missing = append(res.Missing, t)
					fmt.Fprintf(o.Out, "MISSING! %s: %s not found, skipped\n", t.LongName, t.File(o.CertDir, o.KubeconfigDir))
					return nil
				}
				// reqfile's CSR writer, the one of `init-phase --use-csr` too
				// (see reqfile.PlanCSR): a pair an earlier run made for the
				// same certificate is kept, a key a stopped run left gets its
				// CSR, anything else there is refused.
				r := reqs[0]
				s := reqfile.Spec{Profile: r.Profile, Description: r.LongName, CAName: r.CAName, CAFile: r.CABaseName + ".crt", CA: r.CA, Validity: r.Validity}
				c, err := reqfile.PlanCSR(r.CSRFiles(csrDir, o.CertDir, o.KubeconfigDir), s, r.Current.PublicKey)
				if err != nil {
					return fmt.Errorf("write a CSR for %s: %w", t.Name, err)
				}
				plans[t.Name] = &csrPlan{req: r, csr: c}
				return nil
			}})
	}
	return ps
}

// csrPlan is one target's request in the CSR folder, checked, not written.
type csrPlan struct {
	req renewal.Request
	csr *reqfile.CSR
}

// write writes the plan's files (see reqfile.CSR.Write).
func (p *csrPlan) write(o renewal.Options) (Requested, error) {
	c := p.csr
	rq := Requested{Target: p.req.Target, Request: c.Request, Files: []string{c.Files.Key, c.CSR, c.Request}, Kept: c.Kept}
	if _, err := c.Write(o.Rand, func() (crypto.Signer, error) { return pki.GenerateKey(o.Rand, p.req.KeyAlgorithm) }); err != nil {
		return rq, err
	}
	// The key is reused, not rewritten: its mode is the user's to fix.
	if w := c.LooseKey(); w != "" {
		fmt.Fprintf(o.Warn, "[warning] %s\n", w)
	}
	what := "wrote"
	switch {
	case c.Kept:
		what = "kept the key and CSR of an earlier run"
		if w := c.OtherAlgorithm(o.KeyAlgorithm); w != "" {
			fmt.Fprintf(o.Out, "[warning] %s\n", w)
		}
	case c.Key != nil:
		what = "wrote the CSR for the key an interrupted run left"
	}
	fmt.Fprintf(o.Out, "[csr] %s: %s: %s\n", p.req.Name, what, strings.Join(rq.Files, ", "))
	return rq, nil
}
