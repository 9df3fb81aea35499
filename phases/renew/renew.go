// Package renew is the `certctl renew` workflow: the sequence around the
// renewal engine (phases/renewal), for a person and for cron. It waits for
// --jitter, keeps what expires within --if-expires-within, takes the lock
// and recovers, obtains the certificates (from the CAs on disk, through
// the certificates API, or as CSRs for an external CA), installs them,
// prunes the backups, restarts the components and retries the restarts an
// earlier run left owed, and reports it all, as text or one JSON summary.
// Clock, randomness, waiting and output are passed in: its tests never
// sleep.
package renew

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// Options are one run's settings, what it works with, and where it writes.
type Options struct {
	Cluster       *config.Cluster // CertificatesDir, CertificateValidity, SignerNames
	ConfigFile    string          // --config: the node name of the CSRs, and the approve commands
	KubeconfigDir string
	Args          []string         // "all", or names
	KeyAlgorithm  pki.KeyAlgorithm // "": each key's current one
	ReuseKey      bool
	// UpdateSANs gives the certificates the SANs the configuration asks
	// for instead of their current ones (--update-sans); a SAN it would
	// drop is refused unless DropSANs (--drop-sans).
	UpdateSANs, DropSANs bool
	NoBackup             bool
	LockTimeout          time.Duration

	// Threshold is whether --if-expires-within was given: 0s renews only
	// what has expired, not everything.
	Threshold       bool
	IfExpiresWithin time.Duration
	KeepBackups     int           // 0: keep all
	Jitter          time.Duration // 0: start at once
	Quiet           bool          // print errors only
	Format          output.Format // -o; Structured (json, yaml, jsonpath): one summary at the end, nothing else on Out
	Restart         Restart
	API             *API // nil: renew from the CAs on disk
	// DryRun prints what would be renewed, and by which issuer, and
	// writes nothing (see dryRun); CSRDir is then --use-csr's folder.
	DryRun bool
	CSRDir string

	Now  func() time.Time // default time.Now
	Rand io.Reader        // for --jitter; default crypto/rand
	// Sleep waits d, or until ctx ends; default a timer. Now and Sleep
	// are also the clock of the waits for the restarts (--restart-timeout)
	// and their Leases: give both or neither, as a Now that moves only
	// when Sleep is called never reaches a deadline with a timer.
	Sleep       func(ctx context.Context, d time.Duration) error
	Out, ErrOut io.Writer
}

// Restart is --restart-control-plane and its flags.
type Restart struct {
	Enabled     bool
	ManifestDir string
	Timeout     time.Duration
	// Coordination across the control-plane nodes (lease.go): Client, when
	// set, is the API client the restarts take their Lease with; otherwise
	// one found as every command finds it (internal/kubeclient): Kubeconfig
	// (renew --use-api's --kubeconfig), else KUBECONFIG-DIR/admin.conf, ...,
	// with Context (its --context).
	Client              kubernetes.Interface
	Kubeconfig, Context string
	// LeaseWait bounds each wait of a restart for the other nodes: for a
	// component's Lease, then, before etcd restarts, for the other etcd
	// members to keep a quorum without this one (EtcdQuorum), and before
	// kube-apiserver restarts, for another one to be ready (APIServers);
	// DefaultLeaseWait when 0.
	LeaseWait time.Duration
}

// leaseWait is LeaseWait, DefaultLeaseWait when 0.
func (r Restart) leaseWait() time.Duration { return cmp.Or(r.LeaseWait, DefaultLeaseWait) }

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Rand = cmp.Or(o.Rand, rand.Reader)
	if o.Sleep == nil {
		o.Sleep = staticpods.Sleep
	}
}

// run is the state of one run.
type run struct {
	o       Options
	summary *Summary
	// owed is what staticpods.PendingFileName lists: read before the
	// lock, to warn and to decide whether a run with nothing to renew has
	// restarts to retry; after the restarts, what is still owed.
	owed *staticpods.Pending
	// caErr collects the certificates that renewing cannot move out of
	// the window because their CA expires within it; it is the run's error
	// unless a restart failed.
	caErr *renewal.CAExpiryError
	set   *staticpods.Set // the manifests, read before anything is written
	// ownOwed are the components whose restarts this run recorded in
	// its renewal's or restore's transaction (oweInTxn), not owed by an
	// earlier run.
	ownOwed map[string]bool
	// incomplete names the certificates --use-api did not obtain when it
	// installs those it did (see notIssued).
	incomplete *apirenew.IncompleteError
	// superseded are the pending keys of --use-api that the renewal
	// from the CAs on disk, or a restore, removes in its transaction
	// (withSuperseded).
	superseded []apirenew.PrunedKey
}

// Run renews the certificates o.Args names, as the package comment says.
// Its error is the command's; exitcode.Of gives the exit status.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	r := &run{o: o, summary: newSummary(o.Now(), o.IfExpiresWithin)}
	r.summary.DryRun = o.DryRun // also when it fails before the plan
	// With the signal's status (143 for SIGTERM), as the process's.
	err := exitcode.WithSignal(ctx, r.settle(r.run(ctx)))
	r.summary.addCAs(r.caErr)
	if r.owed != nil {
		r.summary.PendingRestarts = append(r.summary.PendingRestarts, r.owed.Components...)
	}
	r.summary.end(o.Now(), err)
	if o.Format.Structured() {
		err = cmp.Or(err, o.Format.Print(o.Out, r.summary, nil))
	}
	return err
}

func (r *run) run(ctx context.Context) error {
	o := &r.o
	cluster := o.Cluster
	selected, err := Select(o.Cluster, o.KubeconfigDir, o.Args)
	if err != nil {
		return err
	}
	// A window as long as the validity would renew every certificate at
	// every run: the churn cron mode exists to avoid.
	// With validities kept from the certificates, one no longer than the
	// window gives way to kubeadm's default (renewal.Options.KeepAbove).
	validity := cluster.CertificateValidity
	if cluster.KeepValidity && validity <= o.IfExpiresWithin {
		validity = config.DefaultCertificateValidity
	}
	if o.Threshold && o.IfExpiresWithin >= validity {
		return fmt.Errorf("--if-expires-within %v is not shorter than the certificate validity %v (--certificate-validity): every run would renew every certificate again; use a window well inside it (cron: 720h), or drop --if-expires-within to renew now", o.IfExpiresWithin, validity)
	}
	// Absolute, so that every path printed and in -o json is.
	if cluster.CertificatesDir, err = filepath.Abs(cluster.CertificatesDir); err != nil {
		return fmt.Errorf("resolve --cert-dir: %w", err)
	}
	if o.KubeconfigDir, err = filepath.Abs(o.KubeconfigDir); err != nil {
		return fmt.Errorf("resolve --kubeconfig-dir: %w", err)
	}
	certDir := cluster.CertificatesDir
	all := isAll(o.Args)
	out := r.out()
	sans, err := o.sans(selected)
	if err != nil {
		return err
	}
	opts := renewal.Options{
		CertDir:       certDir,
		KubeconfigDir: o.KubeconfigDir,
		KeyAlgorithm:  o.KeyAlgorithm,
		Validity:      cluster.CertificateValidity,
		KeepValidity:  cluster.KeepValidity,
		KeepAbove:     o.IfExpiresWithin,
		ReuseKey:      o.ReuseKey,
		SANs:          sans,
		DropSANs:      o.DropSANs,
		SkipMissing:   all,
		SkipExternal:  all,
		NoBackup:      o.NoBackup,
		Now:           o.Now,
		Rand:          o.Rand,
		Out:           out,
		Warn:          r.warnOut(),
	}
	if err := r.loadManifests(); err != nil {
		return err
	}
	if o.DryRun {
		return r.dryRun(ctx, selected, all, opts)
	}
	if err := r.wait(ctx); err != nil {
		return err
	}
	// What follows reads the files before the lock is taken: a renewal
	// killed between two renames must be finished first.
	if err := node.RecoverFirst(ctx, o.ErrOut, r.progressOut(), certDir, o.LockTimeout, o.KubeconfigDir); err != nil {
		return err
	}
	r.prunePending(ctx)
	if err := r.readOwed(); err != nil {
		return err
	}
	// Empty when nothing is due but restarts are owed: they are retried.
	if selected, err = r.due(selected, all); err != nil {
		return err
	}
	// With --use-api the certificates are obtained first, without the
	// lock: waiting for an approval must not hold up other commands.
	var issuer *apirenew.Issuer
	if len(selected) > 0 && o.API != nil {
		if issuer, selected, err = r.obtain(ctx, selected, opts); err != nil {
			return err
		}
		opts.Issuer = issuer
	}
	release, err := r.lock(ctx, r.progressOut())
	if err != nil {
		return err
	}
	defer release()
	fmt.Fprintf(out, "[renew] Using certificate folder %q and kubeconfig folder %q\n", certDir, o.KubeconfigDir)
	// Another certctl may have renewed some while this one waited.
	if issuer == nil {
		if selected, err = r.stillDue(selected); err != nil {
			return err
		}
	}
	res := &renewal.Result{}
	opts.ExtraFor = r.oweInTxn()
	if issuer == nil {
		opts.ExtraFor = r.withSuperseded(selected, opts.ExtraFor)
	}
	if len(selected) > 0 {
		if res, err = renewal.Renew(ctx, selected, opts); err != nil {
			return err
		}
		r.installed(issuer, res)
		r.saySuperseded(r.progressOut(), "renew", "renewed from the CA on disk", len(res.Renewed) > 0)
	}
	return r.notIssued(r.finish(ctx, res))
}

// Select returns the certificates args name ("all" or names), as every
// renewal mode (on disk, --use-api, --use-csr) selects them.
func Select(cluster *config.Cluster, kubeconfigDir string, args []string) ([]renewal.Target, error) {
	selected, err := renewal.Select(pki.Kubeadm(), args, cluster.ExternalEtcd)
	if err == nil && isAll(args) {
		err = renewal.CheckAnyExists(selected, cluster.CertificatesDir, kubeconfigDir)
	}
	return selected, err
}

// sans is, with UpdateSANs, the configuration's profile of each selected
// certificate that has SANs (renewal.Options.SANs); a certificate named
// on the command line that has none is an error.
func (o *Options) sans(selected []renewal.Target) (map[string]pki.Profile, error) {
	if !o.UpdateSANs {
		if o.DropSANs {
			return nil, fmt.Errorf("--drop-sans does nothing without --update-sans: add it, or drop --drop-sans")
		}
		return nil, nil
	}
	node, err := o.Cluster.Node()
	if err != nil {
		return nil, err
	}
	profiles := pki.Kubeadm().Certificates(node)
	var withSANs []string
	for _, p := range profiles {
		if len(p.DNSNames)+len(p.IPs) > 0 {
			withSANs = append(withSANs, p.Name)
		}
	}
	out := map[string]pki.Profile{}
	for _, t := range selected {
		if p, ok := pki.Find(profiles, t.Name); ok && slices.Contains(withSANs, t.Name) {
			out[t.Name] = p
		} else if !isAll(o.Args) {
			return nil, fmt.Errorf("--update-sans: %s has no SANs: name the certificates that have some (%s), or all", t.Name, strings.Join(withSANs, ", "))
		}
	}
	return out, nil
}

func isAll(args []string) bool { return len(args) == 1 && args[0] == "all" }

// out is where the progress lines go: Out in text mode, nowhere with
// Quiet or JSON.
func (r *run) out() io.Writer {
	if r.o.Quiet || r.o.Format.Structured() {
		return io.Discard
	}
	return r.o.Out
}

// warnOut is where warnings go: ErrOut, as every certctl command prints
// them, nowhere with Quiet (the JSON summary lists them too).
func (r *run) warnOut() io.Writer {
	if r.o.Quiet {
		return io.Discard
	}
	return r.o.ErrOut
}

// progressOut is where --use-api prints the CSRs to approve and how long it
// has waited: Out in text mode, ErrOut with JSON (so that Out holds only
// the JSON summary while an operator still sees what to approve), and
// nowhere with Quiet.
func (r *run) progressOut() io.Writer {
	switch {
	case r.o.Quiet:
		return io.Discard
	case r.o.Format.Structured():
		return r.o.ErrOut
	}
	return r.o.Out
}

// errAlreadyInstalled is what the certificates API's issuer returns when
// another run installed the certificates this one obtained.
var errAlreadyInstalled = errors.New("already installed by another run")

// settle ends a run whose certificates another run of the same command
// installed while this one waited for the lock as a run with nothing
// renewed: exit status 2 with --if-expires-within, else 0; the issuer
// printed which, and why. When some CSRs of the batch were not issued,
// that is still the run's end (notIssued, exit status 6), as it is the
// other run's: "nothing to do" would say the job is done.
func (r *run) settle(err error) error {
	if !errors.Is(err, errAlreadyInstalled) {
		return err
	}
	if inc := r.incomplete; inc != nil {
		// Not notIssued's "renewed X": this run renewed nothing.
		return &exitcode.Error{Code: exitcode.NotAllIssued, Err: fmt.Errorf("another certctl run installed %s while this one waited for the lock, but %s not issued: %w", strings.Join(inc.Obtained, ", "), strings.Join(inc.Names(), ", "), inc)}
	}
	r.summary.nothingToDo = true
	if r.o.Threshold {
		fmt.Fprintf(r.out(), "[renew] Nothing to do: %s\n", anotherRenewed)
		return &exitcode.Error{Code: exitcode.NothingToDo}
	}
	fmt.Fprintf(r.out(), "[renew] Nothing was renewed: %s\n", anotherRenewed)
	return nil
}
