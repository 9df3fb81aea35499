package external

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// CSROptions configure WriteCSRs. CSRDir, CertDir, KubeconfigDir and Rand
// are required.
type CSROptions struct {
	CSRDir        string // where the keys, CSRs and request files go
	CertDir       string // the certificate folder, read only
	KubeconfigDir string // the kubeconfig folder, read only
	// KeyAlgorithm of the new keys; "" keeps each certificate's current
	// algorithm (see renewal.Options.KeyAlgorithm).
	KeyAlgorithm pki.KeyAlgorithm
	// Validity asked for; config.DefaultCertificateValidity when zero.
	Validity time.Duration
	// SkipMissing reports a target whose file does not exist as missing
	// (renew all); otherwise it is an error.
	SkipMissing bool
	// SANs and DropSANs ask for the configuration's SANs instead of the
	// current ones (see renewal.Options).
	SANs     map[string]pki.Profile
	DropSANs bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Rand is the source of randomness of the keys and CSR signatures.
	Rand io.Reader
	// Out receives progress lines; io.Discard when nil.
	Out io.Writer
}

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

// WriteCSRs writes a key, CSR and request file into o.CSRDir for each
// target, with the subject, SANs and extended key usages of the target's
// current certificate, as `renew` would renew it, and the CA that signed it.
// No CA key is needed. Every target is read and checked first, as renew
// does (and with its messages): a bad file anywhere fails the run before
// anything is written. Existing files in o.CSRDir are kept when they are a
// key and CSR for the same certificate; other existing files are an error.
func WriteCSRs(ctx context.Context, targets []renewal.Target, o CSROptions) (*CSRResult, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Validity == 0 {
		o.Validity = config.DefaultCertificateValidity
	}
	if err := checkCSRDir(o); err != nil {
		return nil, err
	}
	res := &CSRResult{}
	env := &phases.Env{Cluster: &config.Cluster{CertificatesDir: o.CertDir}, KubeconfigDir: o.KubeconfigDir,
		OwnPlan: true, Now: o.Now, Rand: o.Rand}
	if err := phases.Run(ctx, env, csrPhases(targets, o, res)); err != nil {
		if ctx.Err() != nil && len(res.Requested) > 0 {
			// A signal between two targets: the live certificates are
			// untouched; what is written is kept, and the same command
			// resumes from it.
			return nil, &exitcode.Changed{Done: fmt.Sprintf("wrote the keys and CSRs of %d certificate(s) into %s, and nothing else (the live certificates are untouched): run the same command again to write the rest", len(res.Requested), o.CSRDir), Err: err}
		}
		return nil, err
	}
	return res, nil
}

// csrPhases are WriteCSRs as phases of the phase runner: "csr/NAME" per
// target reads and checks it and its files in the CSR folder in the check
// pass, and writes its key, CSR and request file in the real pass.
func csrPhases(targets []renewal.Target, o CSROptions, res *CSRResult) []phases.Phase {
	ro := renewal.Options{CertDir: o.CertDir, KubeconfigDir: o.KubeconfigDir, KeyAlgorithm: o.KeyAlgorithm, Validity: o.Validity,
		SANs: o.SANs, DropSANs: o.DropSANs, Issuer: Issuer{CSRDir: o.CSRDir}, Now: o.Now, Rand: o.Rand, Out: io.Discard}
	plans := map[string]*csrPlan{}
	var ps []phases.Phase
	for _, t := range targets {
		ps = append(ps, phases.Phase{Name: "csr/" + t.Name, Short: "Write a CSR for " + t.LongName, OwnErrors: true,
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
				ok, err := pki.Exists(t.File(o.CertDir, o.KubeconfigDir))
				if err != nil {
					return err
				}
				if !ok && o.SkipMissing {
					res.Missing = append(res.Missing, t)
					fmt.Fprintf(o.Out, "MISSING! %s: %s not found, skipped\n", t.LongName, t.File(o.CertDir, o.KubeconfigDir))
					return nil
				}
				reqs, err := renewal.Requests([]renewal.Target{t}, ro)
				if err != nil {
					return err
				}
				if plans[t.Name], err = planCSR(reqs[0], o); err != nil {
					return fmt.Errorf("write a CSR for %s: %w", t.Name, err)
				}
				return nil
			}})
	}
	return ps
}

// csrPlan is one target's files in the CSR folder, checked, not written.
type csrPlan struct {
	req     renewal.Request
	files   csrFiles
	current string // the file holding the current certificate
	// key is the existing key when an earlier run's pair is kept, or when
	// an interrupted run left the key without its CSR (resumed).
	key     crypto.Signer
	resumed bool
}

// csrFiles are a target's paths in the CSR folder.
type csrFiles struct {
	dir     string // folder of the files: DIR, or DIR/etcd
	base    string // file name without extension: "server", "admin.conf"
	key     string // the key file, or the key-only kubeconfig
	csr     string
	request string
	cert    string // where the CA operator puts the certificate
}

func filesOf(csrDir string, t renewal.Target) csrFiles {
	dir := filepath.Join(csrDir, filepath.FromSlash(path.Dir(t.BaseName)))
	base := path.Base(t.BaseName)
	f := csrFiles{dir: dir, base: base, csr: filepath.Join(dir, base+".csr"), request: reqfile.Path(dir, base),
		cert: filepath.Join(dir, base+".crt")}
	if t.Kubeconfig {
		f.key = filepath.Join(dir, base)
	} else {
		f.key = filepath.Join(dir, base+".key")
	}
	return f
}

// planCSR decides what to do with r's files: keep a pair an earlier run made
// for the same certificate, or make a new one where none of the files
// exists.
func planCSR(r renewal.Request, o CSROptions) (*csrPlan, error) {
	p := &csrPlan{req: r, files: filesOf(o.CSRDir, r.Target), current: r.File(o.CertDir, o.KubeconfigDir)}
	if _, err := reqfile.Parse(mustMarshal(p.request(nil))); err != nil {
		return nil, fmt.Errorf("%s cannot be requested from an external CA: %w", p.current, err)
	}
	f := p.files
	key, kept, err := reqfile.ExistingCSR(f.key, f.csr, r.Profile, func(path string) (crypto.Signer, error) {
		return readCSRKey(r.Kubeconfig, path)
	})
	if err != nil {
		return nil, err
	}
	if key == nil {
		if ok, err := pki.Exists(f.cert); err != nil {
			return nil, err
		} else if ok {
			return nil, fmt.Errorf("%s exists without the key it was signed for: it is left from another request; remove it, or use another --csr-dir", f.cert)
		}
		return p, nil
	}
	if pki.SamePublicKey(r.Current.PublicKey, key.Public()) {
		return nil, fmt.Errorf("%s is the key of the certificate installed now (%s): that request was imported already; use a new --csr-dir for a new renewal", f.key, p.current)
	}
	// Without its CSR, a key is what a run stopped between the key and its
	// CSR left (write writes the key first): the CSR is made for it now.
	p.key, p.resumed = key, !kept
	return p, nil
}

// write writes the plan's files: the key, then the CSR, then the request
// file, each atomically, so that an interrupted run leaves a key without
// its CSR (which the next run makes: see planCSR) but never a CSR without
// its key. A kept pair only gets its request file rewritten.
func (p *csrPlan) write(o CSROptions) (Requested, error) {
	f := p.files
	rq := Requested{Target: p.req.Target, Request: f.request, Files: []string{f.key, f.csr, f.request}, Kept: p.key != nil && !p.resumed}
	key := p.key
	if key == nil {
		var err error
		if key, err = pki.GenerateKey(o.Rand, p.req.KeyAlgorithm); err != nil {
			return rq, fmt.Errorf("generate %s key: %w", p.req.KeyAlgorithm, err)
		}
		if err := p.writeKey(key); err != nil {
			return rq, err
		}
	}
	if !rq.Kept {
		csr, err := pki.NewCSR(o.Rand, p.req.Profile, key)
		if err != nil {
			return rq, err
		}
		if err := (pki.Store{Dir: f.dir}).WriteCSR(f.base, csr); err != nil {
			return rq, err
		}
	}
	if _, err := reqfile.Write(f.request, p.request(key.Public())); err != nil {
		return rq, err
	}
	what := "wrote"
	switch {
	case rq.Kept:
		what = "kept the key and CSR of an earlier run"
		if alg := pki.AlgorithmOf(key.Public()); o.KeyAlgorithm != "" && alg != o.KeyAlgorithm {
			fmt.Fprintf(o.Out, "[warning] %s: the kept key %s is %s, not %s: remove %s and %s to make a %s pair\n", p.req.Name, f.key, alg, o.KeyAlgorithm, f.key, f.csr, o.KeyAlgorithm)
		}
	case p.resumed:
		what = "wrote the CSR for the key an interrupted run left"
	}
	fmt.Fprintf(o.Out, "[csr] %s: %s: %s\n", p.req.Name, what, strings.Join(rq.Files, ", "))
	return rq, nil
}

func (p *csrPlan) writeKey(key crypto.Signer) error {
	if !p.req.Kubeconfig {
		return pki.Store{Dir: p.files.dir}.WriteKey(p.files.base, key)
	}
	return writeKeyOnlyKubeconfig(p.files.key, p.current, key)
}

// request is the request file's content, for the new key's public key pub
// (nil to check the shape only).
func (p *csrPlan) request(pub crypto.PublicKey) *reqfile.Request {
	r, f := p.req, p.files
	s := reqfile.Spec{
		Profile: r.Profile, Description: r.LongName,
		CSR: f.base + ".csr", Certificate: f.base + ".crt",
		CAName: r.CAName, CAFile: r.CABaseName + ".crt", CA: r.CA,
		PublicKey: pub, Validity: r.Validity,
	}
	if r.Kubeconfig {
		s.Kubeconfig = f.base
	} else {
		s.Key = f.base + ".key"
	}
	return reqfile.New(s)
}

func mustMarshal(r *reqfile.Request) []byte {
	data, err := reqfile.Marshal(r)
	if err != nil {
		panic(err) // a struct of strings always encodes
	}
	return data
}

// checkCSRDir refuses a CSR folder in the node's folders, as init-phase
// does (phases.CheckCSRDir).
func checkCSRDir(o CSROptions) error {
	return phases.CheckCSRDir(o.CSRDir, o.CertDir, o.KubeconfigDir)
}
