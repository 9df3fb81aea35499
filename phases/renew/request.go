package renew

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

// Request is `certctl renew` as asked on the command line: the options,
// the mode (--use-api, --use-csr) and which flags were given, so that
// Check can refuse a flag that would do nothing before any work.
type Request struct {
	Options
	Given   []string // the names of the flags given
	Output  string   // -o as given
	UseAPI  bool
	APIOpts API
	UseCSR  bool
	// Settings reads the node's settings once the options are checked,
	// and says where they came from.
	Settings func() (*config.Cluster, config.Source, error)
}

func (r *Request) given(flag string) bool { return slices.Contains(r.Given, flag) }

// CSRMode is whether --use-csr or --csr-dir was given: the command then
// writes CSRs (Check rejects one without the other).
func (r *Request) CSRMode() bool { return r.UseCSR || r.CSRDir != "" }

// csrFlagsAllowed are the flags that mean something with --use-csr; any
// other given is rejected before any work, rather than ignored.
var csrFlagsAllowed = []string{"use-csr", "csr-dir", "config", "cert-dir", "kubeconfig-dir", "encryption-algorithm", "certificate-validity", "lock-timeout", "dry-run"}

// Check rejects bad and conflicting options before any work, and sets
// Format from Output.
func (r *Request) Check() error {
	switch {
	case r.CSRMode():
		return r.checkCSR()
	case r.ReuseKey && r.given("encryption-algorithm"):
		return fmt.Errorf("--reuse-key keeps the current keys: --encryption-algorithm cannot apply; drop one of them")
	}
	if err := r.checkAPI(); err != nil {
		return err
	}
	var err error
	if r.Format, err = output.Parse(r.Output); err != nil {
		return err
	}
	if r.Quiet && r.Format.Structured() {
		return fmt.Errorf("--quiet and -o %s both say what to print: drop one of them", r.Output)
	}
	switch {
	case r.IfExpiresWithin < 0:
		return fmt.Errorf("--if-expires-within %v must not be negative", r.IfExpiresWithin)
	case r.Jitter < 0:
		return fmt.Errorf("--jitter %v must not be negative", r.Jitter)
	case r.KeepBackups < 0:
		return fmt.Errorf("--keep-backups %v must not be negative", r.KeepBackups)
	case r.DropSANs && !r.UpdateSANs:
		return fmt.Errorf("--drop-sans does nothing without --update-sans: add it, or drop --drop-sans")
	}
	return r.Restart.Check(r.given)
}

// Check rejects the restart flags without --restart-control-plane, where
// they would do nothing; given says which flags were given.
func (r Restart) Check(given func(flag string) bool) error {
	for _, f := range []string{"manifest-dir", "restart-timeout"} {
		if given(f) && !r.Enabled {
			return fmt.Errorf("--%s does nothing without --restart-control-plane: add it, or drop --%s", f, f)
		}
	}
	if r.Timeout <= 0 {
		return fmt.Errorf("--restart-timeout %v must be positive", r.Timeout)
	}
	return nil
}

// checkAPI rejects flags that mean nothing without --use-api and flags
// --use-api cannot honour.
func (r *Request) checkAPI() error {
	if !r.UseAPI {
		for _, n := range []string{"kubeconfig", "context", "timeout", "new-request", "signer-name"} {
			if r.given(n) {
				return fmt.Errorf("--%s applies to renewal through the API: add --use-api, or drop it", n)
			}
		}
		return nil
	}
	if r.ReuseKey {
		// The CSR's name is made from its key, so that a stopped run finds
		// its CSR again; with the current key it would find last year's.
		return fmt.Errorf("--reuse-key cannot be used with --use-api: a renewal through the API always makes a new key")
	}
	if r.APIOpts.Timeout <= 0 {
		return fmt.Errorf("invalid --timeout %v: must be positive", r.APIOpts.Timeout)
	}
	return nil
}

// checkCSR rejects --csr-dir without --use-csr and the reverse, and every
// flag --use-csr would ignore.
func (r *Request) checkCSR() error {
	if !r.UseCSR {
		return fmt.Errorf("--csr-dir is only used with --use-csr")
	}
	if r.CSRDir == "" {
		return fmt.Errorf("--use-csr needs --csr-dir: the folder to write the keys, CSRs and request files to")
	}
	var conflict []string
	for _, f := range r.Given {
		if !slices.Contains(csrFlagsAllowed, f) {
			conflict = append(conflict, "--"+f)
		}
	}
	if len(conflict) > 0 {
		return fmt.Errorf("%s cannot apply with --use-csr, which only writes keys and CSRs (a new key for each; nothing is replaced): drop %s", strings.Join(conflict, ", "), strings.Join(conflict, ", "))
	}
	return nil
}

// Main checks the request, reads the settings and runs it: the CSRs of
// --use-csr (planned only with --dry-run), or a renewal from the CAs on
// disk or through the API. With -o json, yaml or jsonpath a failure
// before the run is a summary too.
func (r *Request) Main(ctx context.Context) error {
	err := r.Check()
	if err == nil {
		// A name no configuration has is refused before the settings,
		// whose ConfigMap read can wait for an API server; the settings
		// decide the rest (Select: an external etcd's names).
		_, err = renewal.Select(pki.Kubeadm(), r.Args, false)
	}
	if err == nil && r.UseAPI {
		// As approve, sign and ca rotate: a --kubeconfig that cannot be
		// read is a mistake on the command line, said before the
		// settings (whose kubeadm-config read would meet it first, on a
		// line of its own) and before any key or CSR is made.
		err = kubeclient.CheckFlag(r.APIOpts.Kubeconfig)
	}
	var cluster *config.Cluster
	var source config.Source
	if err == nil {
		cluster, source, err = r.Settings()
	}
	if err != nil {
		if f, ferr := output.Parse(r.Output); ferr == nil && f.Structured() { // the summary, whatever happened
			r.defaults()
			now := r.Now()
			s := newSummary(now, r.IfExpiresWithin)
			s.DryRun = r.DryRun // a refused plan is still a plan
			err = exitcode.WithSignal(ctx, err)
			s.end(now, err)
			return cmp.Or(f.Print(r.Out, s, nil), err)
		}
		return err
	}
	o := r.Options
	// The configured algorithm applies when the user configured one;
	// otherwise each key keeps its algorithm (see renewal.Options).
	if source.Configured() || r.given("encryption-algorithm") {
		o.KeyAlgorithm = pki.KeyAlgorithm(cluster.EncryptionAlgorithm)
	}
	o.Cluster, o.Threshold = cluster, r.given("if-expires-within")
	if r.CSRMode() && !r.DryRun {
		o.CSRDir = ""
		return RequestCSRs(ctx, o, r.CSRDir, phases.ImportCommand(r.CSRDir, r.ConfigFile, cluster.CertificatesDir, r.KubeconfigDir))
	}
	if r.UseAPI && !r.CSRMode() {
		api := r.APIOpts
		o.API = &api
		// The restarts' Leases are taken with the same credentials.
		o.Restart.Kubeconfig, o.Restart.Context = api.Kubeconfig, api.Context
	}
	return Run(ctx, o)
}

// SignerNamesHelp lists the default signer name of each certificate's
// CSR with --use-api, for renew's help.
func SignerNamesHelp() string {
	var b strings.Builder
	for _, n := range slices.Sorted(slices.Values(renewal.Names()[1:])) {
		s, err := apirenew.DefaultSignerName(renewal.TargetOf(pki.Kubeadm(), n))
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "  %-26s%s\n", n, s)
	}
	return b.String()
}

// NameCompletions completes renew's arguments, given the ones before:
// every name at first; after a certificate's name the names not given
// yet ("all" only alone); nothing after "all".
func NameCompletions(args []string) []string {
	if len(args) == 0 {
		return renewal.Names()
	}
	var out []string
	for _, n := range renewal.Names()[1:] { // not "all"
		if !slices.Contains(args, "all") && !slices.Contains(args, n) {
			out = append(out, n)
		}
	}
	return out
}

// SignerNameCompletions completes --signer-name NAME=SIGNER: first a
// certificate's name and "=" (more: the user goes on typing), then the
// signer names that can issue it (certctl's, and
// kubernetes.io/kube-apiserver-client for the client certificates), its
// default first.
func SignerNameCompletions(toComplete string) (out []string, more bool) {
	name, _, typedSigner := strings.Cut(toComplete, "=")
	if !typedSigner {
		for _, n := range renewal.Names()[1:] { // not "all"
			out = append(out, n+"=")
		}
		return out, true
	}
	def, err := apirenew.DefaultSignerName(renewal.TargetOf(pki.Kubeadm(), name))
	if err != nil {
		return nil, false
	}
	for _, s := range append(append([]string{def}, signer.Names()...), certv1.KubeAPIServerClientSignerName) {
		if c := name + "=" + s; !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, false
}
