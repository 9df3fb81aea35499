package renew

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
)

// API is --use-api and its flags: renewal through the cluster's
// certificates API.
type API struct {
	Kubeconfig string        // --kubeconfig; see kubeclient for the precedence
	Context    string        // --context: the kubeconfig's context to use
	Timeout    time.Duration // for the CSRs to be approved and issued
	// NewRequest makes a new key and CSR even when an earlier run left a
	// pending one: for every certificate, or for those NewRequestFor
	// names (--new-request=NAME,...).
	NewRequest    bool
	NewRequestFor []string
	SignerNames   map[string]string
	UserAgent     string // "certctl/VERSION"
}

// Rate limits of the API client of --use-api: a batch of eleven
// certificates makes about forty requests in a burst (access reviews, a
// get and a create per CSR, the watch's list and watch, a get per CSR at
// the timeout), which client-go's defaults (5 per second, bursts of 10)
// would spread over several seconds.
const (
	apiQPS   = 50
	apiBurst = 100
)

// obtain requests, through the certificates API, a certificate for each
// selected target and waits until every CSR is answered, printing the CSR
// names, approval commands and progress, before the caller takes
// certctl's lock: waiting for a person to approve must not keep
// check-expiration and the other commands waiting. The certificates are
// verified and installed by renewal.Renew, with the returned Issuer, which
// under the lock finds those another run installed meanwhile (see
// settle).
//
// When some CSRs are not issued (denied, failed, or still waiting at the
// timeout) and others are, it returns the targets whose certificates were
// obtained, which the caller installs in one transaction with a backup as
// usual; notIssued then reports the others and sets the exit status.
// When none was obtained it fails: nothing is changed.
func (r *run) obtain(ctx context.Context, selected []renewal.Target, o renewal.Options) (*apirenew.Issuer, []renewal.Target, error) {
	api, out := r.o.API, r.progressOut()
	client, err := kubeclient.New(kubeclient.Options{Kubeconfig: api.Kubeconfig, Context: api.Context, KubeconfigDir: r.o.KubeconfigDir, UserAgent: api.UserAgent, Now: r.o.Now,
		QPS: apiQPS, Burst: apiBurst})
	if err != nil {
		return nil, nil, err
	}
	node, err := nodeName(r.o.ConfigFile)
	if err != nil {
		return nil, nil, err
	}
	pendingDir, err := apirenew.PendingDir(r.o.Cluster.CertificatesDir)
	if err != nil {
		return nil, nil, err
	}
	ao := r.apiOptions(pendingDir)
	ao.Client, ao.Server, ao.Credentials, ao.User, ao.NodeName = client, client.Config.Host, client.Source, client.User(), node
	ao.Timeout, ao.ApproveFlags, ao.ApproveKubeconfig, ao.RerunFlags = api.Timeout, approveFlags(r.o.ConfigFile, r.o.Cluster.CertificatesDir), approveKubeconfig(client), r.rerunFlags()
	ao.AlreadyInstalled, ao.Out, ao.Now = errAlreadyInstalled, out, r.o.Now
	issuer, err := apirenew.New(ao)
	if err != nil {
		return nil, nil, err
	}
	// Read and check every file now, as Renew does: a bad file fails the
	// run before a CSR exists.
	o.Issuer = issuer
	reqs, err := renewal.Requests(selected, o)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(out, "[renew] Renewing through the certificates API of %s (%s)\n", client.Config.Host, client.Source)
	got, err := r.obtained(selected, issuer.Obtain(ctx, reqs))
	if err != nil {
		return nil, nil, err
	}
	return issuer, got, nil
}

// apiOptions are the options of the issuer of --use-api that
// apirenew.Check reads: what obtain's Obtain refuses before any key or
// CSR, and the dry run's checkAPI with it.
func (r *run) apiOptions(pendingDir string) apirenew.Options {
	api := r.o.API
	return apirenew.Options{PendingDir: pendingDir, SignerNames: r.signerNames(), NewRequest: api.NewRequest, NewRequestFor: api.NewRequestFor}
}

// checkAPI is, in a dry run, what obtain refuses before it creates any
// CSR, with the same code: the requests it would make of due
// (renewal.Requests) checked as Obtain checks them (apirenew.Check), so
// that the dry run fails as the real run would, in its words.
func (r *run) checkAPI(due []renewal.Target, o renewal.Options) error {
	pendingDir, err := apirenew.PendingDir(r.o.Cluster.CertificatesDir)
	if err != nil {
		return err
	}
	reqs, err := renewal.Requests(due, o)
	if err != nil {
		return err
	}
	return apirenew.Check(r.apiOptions(pendingDir), reqs)
}

// obtained is what obtain keeps of selected after Obtain returned err:
// all of it (err nil), those obtained when only some CSRs were issued
// (r.incomplete then names the others), or none and the error. Every
// certificate not issued is in the summary's Skipped, with why, whether
// the others are installed or nothing is.
func (r *run) obtained(selected []renewal.Target, err error) ([]renewal.Target, error) {
	var inc *apirenew.IncompleteError
	if !errors.As(err, &inc) {
		if err != nil {
			return nil, err
		}
		return selected, nil
	}
	for _, n := range inc.NotIssued {
		reason := reasonCSRNotIssued
		if n.Refused {
			reason = reasonCSRRefused
		}
		i := slices.IndexFunc(selected, func(t renewal.Target) bool { return t.Name == n.Name })
		r.summary.Skipped = append(r.summary.Skipped, skippedEntry{Name: n.Name, File: selected[i].File(r.o.Cluster.CertificatesDir, r.o.KubeconfigDir), Reason: reason})
	}
	if len(inc.Obtained) == 0 {
		return nil, fmt.Errorf("%w; nothing was changed", err)
	}
	r.incomplete = inc
	got := slices.DeleteFunc(slices.Clone(selected), func(t renewal.Target) bool { return !slices.Contains(inc.Obtained, t.Name) })
	fmt.Fprintf(r.progressOut(), "[renew] Installing the %d certificate(s) issued (%s); %d not issued: %s\n", len(got), strings.Join(inc.Obtained, ", "), len(inc.NotIssued), strings.Join(inc.Names(), ", "))
	return got, nil
}

// notIssued ends a run that installed only some of the certificates it
// requested (see obtain): err, the run's own error, when there is one,
// else exit status exitcode.NotAllIssued with the certificates not
// issued, why, and the commands that finish the job. Said even with
// --quiet: the run is not a full success.
func (r *run) notIssued(err error) error {
	inc := r.incomplete
	if inc == nil {
		return err
	}
	if err != nil {
		return fmt.Errorf("%w; besides, not issued: %v", err, inc)
	}
	return &exitcode.Error{Code: exitcode.NotAllIssued, Err: fmt.Errorf("renewed %s, but not %s: %w", strings.Join(inc.Obtained, ", "), strings.Join(inc.Names(), ", "), inc)}
}

// Values of skippedEntry.Reason for --use-api.
const (
	// reasonCSRRefused: its CSR was denied or failed; it needs
	// --new-request NAME.
	reasonCSRRefused = "csr-refused"
	// reasonCSRNotIssued: its CSR was still pending, or approved and not
	// issued, at the timeout, or was deleted; the same command picks it
	// up again.
	reasonCSRNotIssued = "csr-not-issued"
)

// approveFlags are the flags of the printed `certctl approve` that judge
// the CSRs by the configuration this run named them with (its node name),
// and, for a certificate folder other than the default, that folder:
// without --config and the kubeadm-config ConfigMap, approve takes the
// settings (SANs, node name, addresses) from the certificates in it, and
// from kubeadm's defaults and this host's name and address when it finds
// none there, which then refuse the apiserver and etcd requests.
func approveFlags(configFile, certDir string) string {
	var b strings.Builder
	if configFile != "" {
		b.WriteString(" --config " + output.ShellQuote(configFile))
	}
	if certDir != "" && certDir != config.DefaultCertificatesDir {
		b.WriteString(" --cert-dir " + output.ShellQuote(certDir))
	}
	return b.String()
}

// approveKubeconfig is the --kubeconfig and --context the approve commands
// need to reach the cluster renew reached with c: the file renew used
// (--kubeconfig, KUBECONFIG-DIR/admin.conf, which kubectl and certctl
// approve do not look for, or ~/.kube/config, harmless to name), nothing
// for $KUBECONFIG and the pod's service account, which both tools find
// themselves; and the context renew was given, without which they would
// take the kubeconfig's current-context, maybe another cluster.
func approveKubeconfig(c *kubeclient.Client) string {
	s := ""
	if c.File != "" {
		s = " --kubeconfig " + output.ShellQuote(c.File)
	}
	if c.Context != "" {
		s += " --context " + output.ShellQuote(c.Context)
	}
	return s
}

// rerunFlags are the flags of this run that a renew command printed for
// what is left needs to act on the same node and cluster.
func (r *run) rerunFlags() string {
	var b strings.Builder
	add := func(flag, value string) { fmt.Fprintf(&b, " --%s %s", flag, output.ShellQuote(value)) }
	if r.o.ConfigFile != "" {
		add("config", r.o.ConfigFile)
	}
	if d := r.o.Cluster.CertificatesDir; d != config.DefaultCertificatesDir {
		add("cert-dir", d)
	}
	if d := r.o.KubeconfigDir; d != config.DefaultKubeconfigDir {
		add("kubeconfig-dir", d)
	}
	if k := r.o.API.Kubeconfig; k != "" {
		add("kubeconfig", k)
	}
	if k := r.o.API.Context; k != "" {
		add("context", k)
	}
	for _, n := range slices.Sorted(maps.Keys(r.o.API.SignerNames)) {
		add("signer-name", n+"="+r.o.API.SignerNames[n])
	}
	return b.String()
}

// signerNames are the signer names given for certificates: signerNames of
// the configuration file, overridden by --signer-name.
func (r *run) signerNames() map[string]string {
	signers := map[string]string{}
	maps.Copy(signers, r.o.Cluster.SignerNames)
	maps.Copy(signers, r.o.API.SignerNames)
	return signers
}

// installed forgets the pending keys of what res installed; a key left
// behind is recognised and removed by the next run (prunePending).
func (r *run) installed(issuer *apirenew.Issuer, res *renewal.Result) {
	if issuer == nil {
		return
	}
	var names []string
	for _, rn := range res.Renewed {
		names = append(names, rn.Name)
	}
	if err := issuer.Installed(names); err != nil {
		fmt.Fprintf(r.o.ErrOut, "[warning] %v: %s\n", err, apirenew.RemovedNext)
	}
}

// prunePending removes the pending keys of --use-api whose certificate is
// installed (apirenew.Stale): copies of private keys in use, which a run
// stopped between its install and their removal left behind, and which
// no later run would touch otherwise (nothing due, or no --use-api). Every
// renew run does it before it looks at what is due, with or without
// --use-api: after a renewal from the CAs on disk, such a key would pass
// for a CSR's still waiting. It looks without the lock, and takes the
// lock (which finishes an interrupted install first) only when there is
// one to remove, so that a run with nothing to do waits for no other
// certctl. What it removes goes into the summary (PrunedPendingKeys);
// what it cannot do is a warning: the run goes on.
func (r *run) prunePending(ctx context.Context) {
	stale, dir, found := r.stalePending()
	if len(found) == 0 {
		return
	}
	release, err := r.lock(ctx, r.progressOut())
	if err != nil {
		fmt.Fprintf(r.warnOut(), "[warning] the pending key of %s in %s is its installed certificate's, and was not removed: %v; %s\n", strings.Join(found, ", "), dir, err, apirenew.RemovedNext)
		return
	}
	defer release()
	removed, err := stale.Remove()
	for _, n := range removed {
		fmt.Fprintf(r.progressOut(), "[renew] Removed the pending key of %s: its certificate is installed\n", n)
		r.summary.PrunedPendingKeys = append(r.summary.PrunedPendingKeys, prunedPendingKey{Name: n, File: stale.KeyFile(n)})
	}
	if err != nil {
		fmt.Fprintf(r.warnOut(), "[warning] %v: %s\n", err, apirenew.RemovedNext)
	}
}

// stalePending are the pending keys of --use-api whose certificate is
// installed (apirenew.Stale.Find: it only reads), with their folder.
func (r *run) stalePending() (stale apirenew.Stale, dir string, found []string) {
	dir, err := apirenew.PendingDir(r.o.Cluster.CertificatesDir)
	if err != nil {
		return stale, "", nil
	}
	stale = apirenew.Stale{PendingDir: dir, CertDir: r.o.Cluster.CertificatesDir, KubeconfigDir: r.o.KubeconfigDir}
	return stale, dir, stale.Find()
}

// nodeName names the CSRs: nodeRegistration.name of the configuration
// file, else the host name, as kubeadm defaults it.
func nodeName(configFile string) (string, error) {
	if configFile != "" {
		f, err := config.LoadFile(configFile, config.Cluster{})
		if err != nil {
			return "", err
		}
		if f.Cluster.NodeName != "" {
			return f.Cluster.NodeName, nil
		}
	}
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("find the node name for the CSR names: %w; pass --config with nodeRegistration.name", err)
	}
	return strings.ToLower(strings.TrimSpace(h)), nil
}

// NewRequestValue is --new-request as a flag value (pflag.Value) that
// sets API.NewRequest and NewRequestFor: alone (or =all, or =true as when it
// was a boolean) for every certificate of the run, =NAME,... for those
// only, so that a re-run after one CSR was denied asks a new approval for
// that one only.
type NewRequestValue struct{ API *API }

func (v NewRequestValue) String() string {
	if v.API.NewRequest {
		return "all"
	}
	return strings.Join(v.API.NewRequestFor, ",")
}

func (v NewRequestValue) Set(s string) error {
	switch s {
	case "all", "true":
		v.API.NewRequest = true
		return nil
	case "false":
		v.API.NewRequest, v.API.NewRequestFor = false, nil
		return nil
	}
	known := renewal.Names()[1:]
	for _, n := range strings.Split(s, ",") {
		switch n = strings.TrimSpace(n); {
		case n == "":
		case !slices.Contains(known, n):
			return fmt.Errorf("%q is not a certificate certctl renews: use one of %s", n, strings.Join(known, ", "))
		case !slices.Contains(v.API.NewRequestFor, n):
			v.API.NewRequestFor = append(v.API.NewRequestFor, n)
		}
	}
	return nil
}

func (v NewRequestValue) Type() string { return "names" }

// NewRequestCompletions completes --new-request=NAME,...: "all" or a
// name first; after "NAME,", the names not given yet, each with what was
// typed before it.
func NewRequestCompletions(toComplete string) []string {
	i := strings.LastIndex(toComplete, ",")
	before, given := toComplete[:i+1], strings.Split(toComplete[:max(i, 0)], ",")
	var out []string
	if i < 0 {
		out = append(out, "all")
	}
	for _, n := range renewal.Names()[1:] { // not "all"
		if !slices.Contains(given, n) {
			out = append(out, before+n)
		}
	}
	return out
}
