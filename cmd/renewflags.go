package cmd

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/renew"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// cronOptions are the flags that make `renew` fit for cron and systemd
// timers (issue 8), bound to o.
type cronOptions struct {
	o       *renew.Options
	output  string
	format  output.Format // output, parsed by validate
	restart restartOptions
}

func (c *cronOptions) addTo(fs *pflag.FlagSet, o *renew.Options) {
	c.o = o
	fs.DurationVar(&o.IfExpiresWithin, "if-expires-within", 0, "renew only the certificates that expire within this duration (cron: 720h; 0s: those that have expired), and say why each other one is skipped; exit 2 when none does")
	fs.IntVar(&o.KeepBackups, "keep-backups", 0, "after a renewal, keep only this many backups in certctl-backups/, removing the oldest (0: keep all)")
	fs.DurationVar(&o.Jitter, "jitter", 0, "wait a random time up to this long first, so that the nodes of a cluster run at different times (e.g. 1h)")
	fs.BoolVarP(&o.Quiet, "quiet", "q", false, "print errors only (for cron, which mails any output)")
	fs.StringVarP(&c.output, "output", "o", "text", output.Help()+": text and wide print one line per action; json, yaml and jsonpath print the summary RenewalSummary at the end (schema in docs/cron.md)")
	c.restart.addTo(fs)
}

// validate rejects bad and conflicting flags before any work.
func (c *cronOptions) validate(cmd *cobra.Command) error {
	var err error
	if c.format, err = output.Parse(c.output); err != nil {
		return err
	}
	o := c.o
	if o.Quiet && renew.Structured(c.format) {
		return fmt.Errorf("--quiet and -o %s both say what to print: drop one of them", c.output)
	}
	for _, f := range []struct {
		name     string
		value    any
		negative bool
	}{
		{"if-expires-within", o.IfExpiresWithin, o.IfExpiresWithin < 0},
		{"jitter", o.Jitter, o.Jitter < 0},
		{"keep-backups", o.KeepBackups, o.KeepBackups < 0},
	} {
		if f.negative {
			return fmt.Errorf("--%s %v must not be negative", f.name, f.value)
		}
	}
	return c.restart.validate(cmd)
}

// restartOptions are --restart-control-plane and its flags, for the
// commands that replace certificates (renew, restore).
type restartOptions struct{ renew.Restart }

func (r *restartOptions) addTo(fs *pflag.FlagSet) {
	fs.BoolVar(&r.Enabled, "restart-control-plane", false, "make the kubelet restart the static pods that read the replaced files (an annotation in their manifests), then check that each serves its new certificate")
	fs.StringVar(&r.ManifestDir, "manifest-dir", staticpods.DefaultManifestDir, "folder of the static pod manifests (the kubelet's staticPodPath), with --restart-control-plane")
	fs.DurationVar(&r.Timeout, "restart-timeout", staticpods.DefaultTimeout, "how long to wait for each restarted component to serve its new certificate, with --restart-control-plane")
}

// validate rejects the restart flags without --restart-control-plane,
// where they would do nothing.
func (r *restartOptions) validate(cmd *cobra.Command) error {
	for _, f := range []string{"manifest-dir", "restart-timeout"} {
		if cmd.Flags().Changed(f) && !r.Enabled {
			return fmt.Errorf("--%s does nothing without --restart-control-plane: add it, or drop --%s", f, f)
		}
	}
	if r.Timeout <= 0 {
		return fmt.Errorf("--restart-timeout %v must be positive", r.Timeout)
	}
	return nil
}

// useAPIFlags are renew's flags for renewing through the certificates API.
type useAPIFlags struct {
	useAPI bool
	renew.API
}

func (f *useAPIFlags) addTo(fs *pflag.FlagSet) {
	fs.BoolVar(&f.useAPI, "use-api", false, "renew through the cluster's certificates.k8s.io/v1 API: create a CSR per certificate and wait until it is approved and issued")
	fs.StringVar(&f.Kubeconfig, "kubeconfig", "", "with --use-api: kubeconfig of the API server (default: KUBECONFIG-DIR/"+pki.AdminKubeconfig+", then $KUBECONFIG, then ~/.kube/config, then the pod's service account; docs/renew.md)")
	fs.DurationVar(&f.Timeout, "timeout", apirenew.DefaultTimeout, "with --use-api: how long to wait for the CSRs to be approved and issued")
	fs.Var(newRequestFlag{&f.API}, "new-request", "with --use-api: make a new key and CSR even when an earlier run left a pending one (a denied or failed CSR needs it): alone for every certificate of the run, --new-request=NAME,... for those only")
	fs.Lookup("new-request").NoOptDefVal = "all"
	fs.StringToStringVar(&f.SignerNames, "signer-name", nil, "with --use-api: `NAME=SIGNER`, the signer name of certificate NAME's CSR, repeatable (default: listed above; also renewal.signerNames of a CertctlConfiguration document in --config)")
	fs.Lookup("signer-name").DefValue = "" // not "[]"
}

// check rejects, before any work, flags that mean nothing without
// --use-api and flags --use-api cannot honour.
func (f *useAPIFlags) check(cmd *cobra.Command, reuseKey bool) error {
	if !f.useAPI {
		for _, n := range []string{"kubeconfig", "timeout", "new-request", "signer-name"} {
			if cmd.Flags().Changed(n) {
				return fmt.Errorf("--%s applies to renewal through the API: add --use-api, or drop it", n)
			}
		}
		return nil
	}
	if reuseKey {
		// The CSR's name is made from its key, so that a stopped run finds
		// its CSR again; with the current key it would find last year's.
		return fmt.Errorf("--reuse-key cannot be used with --use-api: a renewal through the API always makes a new key")
	}
	if f.Timeout <= 0 {
		return fmt.Errorf("invalid --timeout %v: must be positive", f.Timeout)
	}
	return nil
}

// useCSRFlags are renew's --use-csr and --csr-dir: keys and CSRs for an
// external CA instead of certificates (docs/external-ca.md).
type useCSRFlags struct {
	enabled bool
	dir     string
}

func (f *useCSRFlags) addTo(fs *pflag.FlagSet) {
	fs.BoolVar(&f.enabled, "use-csr", false, "write a new key, a CSR and a request file (what to sign) per certificate for an external CA, into --csr-dir, instead of renewing; install the signed certificates with certctl certs import")
	fs.StringVar(&f.dir, "csr-dir", "", "with --use-csr: folder for the keys, CSRs and request files (it mirrors the certificate folder)")
}

// csrFlagsAllowed are the flags that mean something with --use-csr; any
// other given is rejected before any work, rather than ignored.
var csrFlagsAllowed = []string{"use-csr", "csr-dir", "config", "cert-dir", "kubeconfig-dir", "encryption-algorithm", "certificate-validity", "lock-timeout", "dry-run"}

// check rejects --csr-dir without --use-csr and the reverse, and every
// flag --use-csr would ignore.
func (f *useCSRFlags) check(cmd *cobra.Command) error {
	if !f.enabled {
		return fmt.Errorf("--csr-dir is only used with --use-csr")
	}
	if f.dir == "" {
		return fmt.Errorf("--use-csr needs --csr-dir: the folder to write the keys, CSRs and request files to")
	}
	var conflict []string
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if !slices.Contains(csrFlagsAllowed, f.Name) {
			conflict = append(conflict, "--"+f.Name)
		}
	})
	if len(conflict) > 0 {
		return fmt.Errorf("%s cannot apply with --use-csr, which only writes keys and CSRs (a new key for each; nothing is replaced): drop %s", strings.Join(conflict, ", "), strings.Join(conflict, ", "))
	}
	return nil
}

// signerNamesHelpForRenew lists the default signer name of each
// certificate, for renew's help.
func signerNamesHelpForRenew() string {
	var b strings.Builder
	names := renewal.Names()[1:]
	sort.Strings(names)
	for _, n := range names {
		s, err := apirenew.DefaultSignerName(renewal.TargetOf(pki.Kubeadm(), n))
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "  %-26s%s\n", n, s)
	}
	return b.String()
}

// newRequestFlag is --new-request: alone (or =all, or =true as when it
// was a boolean) for every certificate of the run, =NAME,... for those
// only, so that a re-run after one CSR was denied asks a new approval for
// that one only.
type newRequestFlag struct{ api *renew.API }

func (v newRequestFlag) String() string {
	switch {
	case v.api.NewRequest:
		return "all"
	}
	return strings.Join(v.api.NewRequestFor, ",")
}

func (v newRequestFlag) Set(s string) error {
	switch s {
	case "all", "true":
		v.api.NewRequest = true
		return nil
	case "false":
		v.api.NewRequest, v.api.NewRequestFor = false, nil
		return nil
	}
	known := renewal.Names()[1:]
	for _, n := range strings.Split(s, ",") {
		switch n = strings.TrimSpace(n); {
		case n == "":
		case !slices.Contains(known, n):
			return fmt.Errorf("%q is not a certificate certctl renews: use one of %s", n, strings.Join(known, ", "))
		case !slices.Contains(v.api.NewRequestFor, n):
			v.api.NewRequestFor = append(v.api.NewRequestFor, n)
		}
	}
	return nil
}

func (v newRequestFlag) Type() string { return "names" }
