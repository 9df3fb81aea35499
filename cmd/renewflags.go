package cmd

import (
	"github.com/spf13/pflag"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/renew"
	"github.com/certctl/certctl/phases/renewal/apirenew"
)

// addCronFlags adds the flags that make `renew` fit for cron and systemd
// timers (issue 8), bound to r.
func addCronFlags(fs *pflag.FlagSet, r *renew.Request) {
	o := &r.Options
	fs.DurationVar(&o.IfExpiresWithin, "if-expires-within", 0, "renew only the certificates that expire within this duration (cron: 720h; 0s: those that have expired), and say why each other one is skipped; exit 2 when none does")
	fs.IntVar(&o.KeepBackups, "keep-backups", 0, "after a renewal, keep only this many backups in certctl-backups/, and after --restart-control-plane's restarts this many manifest backups in tmp/, removing the oldest (0: keep all)")
	fs.DurationVar(&o.Jitter, "jitter", 0, "wait a random time up to this long first, so that the nodes of a cluster run at different times (e.g. 1h)")
	fs.BoolVarP(&o.Quiet, "quiet", "q", false, "print errors only (for cron, which mails any output)")
	fs.StringVarP(&r.Output, "output", "o", "text", output.Help()+": text and wide print one line per action; json, yaml and jsonpath print the summary RenewalSummary at the end (schema in docs/cron.md)")
	addRestartFlags(fs, &o.Restart)
}

// addRestartFlags adds --restart-control-plane and its flags, bound to r,
// for the commands that replace certificates (renew, restore).
func addRestartFlags(fs *pflag.FlagSet, r *renew.Restart) {
	fs.BoolVar(&r.Enabled, "restart-control-plane", false, "make the kubelet restart the static pods that read the replaced files (an annotation in their manifests), then check that each serves its new certificate")
	fs.StringVar(&r.ManifestDir, "manifest-dir", staticpods.DefaultManifestDir, "folder of the static pod manifests (the kubelet's staticPodPath), with --restart-control-plane")
	fs.DurationVar(&r.Timeout, "restart-timeout", staticpods.DefaultTimeout, "how long to wait for each restarted component to serve its new certificate, with --restart-control-plane")
}

// addUseAPIFlags adds renew's flags for renewing through the certificates
// API, bound to r.
func addUseAPIFlags(fs *pflag.FlagSet, r *renew.Request) {
	f := &r.APIOpts
	fs.BoolVar(&r.UseAPI, "use-api", false, "renew through the cluster's certificates.k8s.io/v1 API: create a CSR per certificate and wait until it is approved and issued")
	fs.StringVar(&f.Kubeconfig, "kubeconfig", "", "with --use-api: "+kubeclient.KubeconfigHelp(true))
	fs.StringVar(&f.Context, "context", "", "with --use-api: "+kubeclient.ContextHelp)
	fs.DurationVar(&f.Timeout, "timeout", apirenew.DefaultTimeout, "with --use-api: how long to wait for the CSRs to be approved and issued")
	fs.Var(renew.NewRequestValue{API: f}, "new-request", "with --use-api: make a new key and CSR even when an earlier run left a pending one (a denied or failed CSR needs it): alone for every certificate of the run, --new-request=NAME,... for those only")
	fs.Lookup("new-request").NoOptDefVal = "all"
	fs.StringToStringVar(&f.SignerNames, "signer-name", nil, "with --use-api: `NAME=SIGNER`, the signer name of certificate NAME's CSR, repeatable (default: listed above; also renewal.signerNames of a CertctlConfiguration document in --config)")
	fs.Lookup("signer-name").DefValue = "" // not "[]"
}
