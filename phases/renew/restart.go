package renew

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// load reads the manifests, so that a wrong --manifest-dir or a manifest
// certctl cannot read fails the run before anything is written.
func (r *run) loadManifests() error {
	if !r.o.Restart.Enabled {
		return nil
	}
	// Absolute, so that the paths in messages and -o json are.
	dir, err := filepath.Abs(r.o.Restart.ManifestDir)
	if err != nil {
		return fmt.Errorf("resolve --manifest-dir %s: %w", r.o.Restart.ManifestDir, err)
	}
	set, err := staticpods.Load(dir)
	if err != nil {
		return err
	}
	if err := manifests.CheckBackupParent(dir); err != nil {
		return err
	}
	// As every warning of the run: in the summary, and not printed with
	// --quiet, which cron would mail every day.
	for _, w := range set.Warnings {
		r.warning(w)
	}
	r.o.Restart.ManifestDir, r.set = dir, set
	return nil
}

// restartOwed restarts the components that read the changed files. want
// lists the components that renewal says read them (renewal.Result.Restarts):
// one of those without a manifest in the folder (run another way) is
// reported, for the user to restart. One whose manifest does not name the
// files does not read them (etcd and etcd-healthcheck-client, which only
// old kubeadm's exec probe used) and needs no restart. It remembers in
// staticpods.PendingFileName, beside certDir, the restarts it still owes:
// it adds the components that read the changed files to those an earlier
// run left owed, writes that down before the first restart, retries the
// owed ones with the new ones, and drops each once it is verified. It
// leaves what is still owed in r.owed, and adds the restarts and the
// warnings to r.summary. The caller holds certctl's lock.
func (r *run) restartOwed(ctx context.Context, changed []string, want []renewal.Restart) error {
	owed, err := node.LoadOwed(r.o.Cluster.CertificatesDir, []string{r.o.KubeconfigDir})
	if err != nil {
		return err
	}
	before := r.owed // read before the lock (readOwed); nil for a restore
	r.owed = owed
	out, now, manifestDir := r.out(), r.o.Now(), r.o.Restart.ManifestDir
	warn := func(format string, args ...any) { r.warning(fmt.Sprintf(format, args...)) }
	r.warnNoManifest(want)
	affected, dropped := r.set.AffectedWithPending(changed, owed)
	// saveErr, then lostErr, are the run's error when the restarts succeed.
	var saveErr, lostErr error
	for _, d := range dropped {
		owed.Forget(d.Component)
		// One whose manifest no longer names the files does not read
		// them; one without a manifest is out of certctl's reach.
		i := slices.IndexFunc(r.set.Manifests, func(m *staticpods.Manifest) bool { return m.Component == d.Component })
		switch {
		case i >= 0:
			// Said, not dropped in silence: a restart owed for days
			// vanished between "retrying the restarts still owed" and
			// "no restart is owed".
			warn("%s: no longer owed the restart owed since %s: its manifest %s names none of %s any more, so it does not read them", d.Component, d.Since.Format(time.RFC3339), r.set.Manifests[i].Path, strings.Join(d.Files, ", "))
		case lostErr == nil:
			lostErr = fmt.Errorf("%s still had to be restarted (since %s) to read %s, but %s has no manifest of it any more: restart it yourself; certctl no longer tracks it", d.Component, d.Since.Format(time.RFC3339), strings.Join(d.Files, ", "), manifestDir)
			warn("%v", lostErr)
		}
	}
	for _, a := range affected {
		if c := owed.Get(a.Component); c != nil && !r.ownOwed[a.Component] {
			reason := ""
			if c.Reason != "" {
				reason = ": " + c.Reason
			}
			fmt.Fprintf(out, "[restart] %s: restart owed since %s, by an earlier run%s\n", a.Component, c.Since.Format(time.RFC3339), reason)
		}
		owed.Owe(a, now)
	}
	// Written before the first restart: a run killed while it waits
	// leaves them owed.
	saveErr = owed.Save()
	done := func(res staticpods.Result) {
		owed.Record(res)
		saveErr = cmp.Or(saveErr, owed.Save())
	}
	switch {
	case len(affected) == 0 && len(changed) == 0:
		// A run that only retries restarts owed, none of them owed any
		// more: it replaced no file.
		fmt.Fprintf(out, "[restart] Nothing to restart: %s\n", noLongerOwed(before, dropped))
	case len(affected) == 0:
		fmt.Fprintf(out, "[restart] Nothing to restart: no static pod manifest in %s names the replaced files\n", manifestDir)
	case ctx.Err() != nil:
		// A signal during the commit, which runs to its end: nothing
		// new is started after it; the restarts stay owed (saved above).
		names := make([]string, len(affected))
		for i, a := range affected {
			names[i] = a.Component
		}
		err = fmt.Errorf("interrupted before restarting %s: %w", strings.Join(names, ", "), ctx.Err())
	default:
		var results []staticpods.Result
		// A node that restarts alone asks the API server nothing.
		coordinate, apiServers := RestartGates(ctx, r.coordination(), out)
		results, err = staticpods.Restart(ctx, affected, staticpods.Options{Timeout: r.o.Restart.Timeout, Now: r.o.Now, Clock: r.o.Now, Sleep: r.o.Sleep, Out: out, Done: done,
			Coordinate: coordinate, APIServer: r.set.APIServerAddress(),
			EtcdQuorum: EtcdQuorum(r.o.Cluster.CertificatesDir, r.o.Restart.leaseWait()), APIServers: apiServers})
		r.summary.Restarts = append(r.summary.Restarts, results...)
	}
	return cmp.Or(err, saveErr, lostErr)
}

// noLongerOwed says why a run that renewed nothing has no restart to
// retry: those owed when it read them before the lock (before) were
// dropped (warned of each) or, gone from the record it read again under
// the lock, made by another certctl run that held the lock meanwhile.
func noLongerOwed(before *staticpods.Pending, dropped []staticpods.PendingComponent) string {
	var owed []staticpods.PendingComponent
	if before != nil {
		owed = before.Components
	}
	var gone, lost []string
	for _, c := range owed {
		if slices.ContainsFunc(dropped, func(d staticpods.PendingComponent) bool { return d.Component == c.Component }) {
			lost = append(lost, c.Component)
		} else {
			gone = append(gone, c.Component)
		}
	}
	var why []string
	if len(gone) > 0 {
		why = append(why, fmt.Sprintf("%s, owed when this run began, no longer owed: another certctl run restarted them (or their record was removed) before this one took the lock", strings.Join(gone, ", ")))
	}
	if len(lost) > 0 {
		why = append(why, fmt.Sprintf("%s no longer owed, as said above", strings.Join(lost, ", ")))
	}
	if len(why) == 0 {
		return "no restart is owed"
	}
	return strings.Join(why, "; ")
}

// warnNoManifest warns of each component of want (renewal's Restarts)
// that has no manifest in --manifest-dir (run another way), for the user
// to restart; nothing without --restart-control-plane (r.set nil). The
// real run warns before its restarts, a dry run where it lists them, so
// that it says what the real run would.
func (r *run) warnNoManifest(want []renewal.Restart) {
	if r.set == nil {
		return
	}
	for _, w := range want {
		if !slices.ContainsFunc(r.set.Manifests, func(m *staticpods.Manifest) bool { return m.Component == w.Component }) {
			r.warning(fmt.Sprintf("%s uses %s, but %s has no manifest of it: restart it yourself", w.Component, strings.Join(w.Names, ", "), r.o.Restart.ManifestDir))
		}
	}
}

// warning adds msg to the summary's warnings and prints it on warnOut.
func (r *run) warning(msg string) {
	r.summary.Warnings = append(r.summary.Warnings, msg)
	fmt.Fprintf(r.warnOut(), "[warning] %s\n", msg)
}

// loudWarning is warning said even with --quiet (on stderr then): a cron
// job prints only errors and warnings, and mails what it prints.
func (r *run) loudWarning(msg string) {
	r.summary.Warnings = append(r.summary.Warnings, msg)
	w := r.warnOut()
	if w == io.Discard {
		w = r.o.ErrOut
	}
	fmt.Fprintf(w, "[warning] %s\n", msg)
}

// readOwed reads the restarts an earlier run left owed. Without
// --restart-control-plane it warns that they are still owed; with it, the
// run retries them, even when nothing is due. It reads without the lock:
// the file is replaced atomically, and the run reads it again under the
// lock before it restarts anything.
func (r *run) readOwed() error {
	var err error
	if r.owed, err = node.LoadOwed(r.o.Cluster.CertificatesDir, []string{r.o.KubeconfigDir}); err != nil || r.owed.Len() == 0 || r.o.Restart.Enabled {
		return err
	}
	var names []string
	for _, o := range r.owed.Components {
		names = append(names, o.Component)
	}
	first := r.owed.Components[0]
	// This run has not taken the lock yet: a holder is another run, which
	// may be restarting them at this moment (it saves what it owes first).
	var holder lock.Holder
	if l, err := lock.Beside(r.o.Cluster.CertificatesDir); err == nil {
		holder = lock.CurrentHolder(l)
	}
	owed := fmt.Sprintf("%s must still be restarted to read the certificates renewed at %s", strings.Join(names, ", "), first.Since.Format(time.RFC3339))
	var msg string
	if holder.PID > 0 {
		msg = fmt.Sprintf("%s, unless %s, which holds certctl's lock, is restarting them now: once it is done, `certctl check-expiration` says whether they still must be", owed, holder)
	} else {
		why := ""
		if first.Reason != "" {
			why = ": " + first.Reason
		}
		msg = fmt.Sprintf("%s (a run with --restart-control-plane could not do it%s): run again with --restart-control-plane to retry, or restart them yourself and remove %s", owed, why, strings.Join(r.owed.Records(), " and "))
	}
	r.summary.Warnings = append(r.summary.Warnings, msg)
	// Said even with --quiet and -o json (on stderr then): a cron job
	// that prints only errors must still show that the cluster runs
	// with the old certificates.
	w := r.out()
	if w == io.Discard {
		w = r.o.ErrOut
	}
	fmt.Fprintf(w, "[warning] %s\n", msg)
	return nil
}

// retrying reports whether a run with nothing to renew goes on, to retry
// the restarts an earlier run left owed.
func (r *run) retrying() bool {
	return r.o.Restart.Enabled && r.owed != nil && r.owed.Len() > 0
}

// lock is how renew and restore write: certctl's lock on the node's
// folders, after recovering an interrupted transaction there (node.Lock;
// who holds it is reported on progress while it waits), then the lock
// beside the manifest folder (lockManifests). release releases both.
func (r *run) lock(ctx context.Context, progress io.Writer) (release func(), err error) {
	releaseNode, err := node.LockReporting(ctx, r.o.ErrOut, progress, r.o.Cluster.CertificatesDir, r.o.LockTimeout, r.o.KubeconfigDir)
	if err != nil {
		return nil, err
	}
	releaseManifests, err := r.lockManifests(ctx)
	if err != nil {
		releaseNode()
		return nil, err
	}
	return func() { releaseManifests(); releaseNode() }, nil
}

// lockManifests takes certctl's lock beside the manifest folder, which signer
// enable and disable take to edit kube-controller-manager's manifest, when
// it is not the one beside certDir that the caller holds already (a second
// flock of the same file by this process would wait for the first). In
// kubeadm's layout both are /etc/kubernetes/.certctl.lock.
func (r *run) lockManifests(ctx context.Context) (release func(), err error) {
	if !r.o.Restart.Enabled {
		return func() {}, nil
	}
	a, err := lock.Beside(r.o.Cluster.CertificatesDir)
	if err != nil {
		return nil, err
	}
	b, err := lock.Beside(r.o.Restart.ManifestDir)
	if err != nil {
		return nil, err
	}
	if a == b {
		return func() {}, nil
	}
	return node.LockOnly(ctx, r.o.Restart.ManifestDir, r.o.LockTimeout)
}

// coordinator returns how this node's restarts wait for the other
// control-plane nodes' (a Lease per component in kube-system, lease.go),
// or nil when the API server cannot be reached or its certificate does not
// verify: the node then restarts alone, and says so. A restart of etcd also
// takes kube-apiserver's Lease when the node runs a kube-apiserver:
// kubeadm's uses its own node's etcd member only (--etcd-servers=https://127.0.0.1:2379) and is not ready while
// that member restarts, so another node's kube-apiserver must not restart
// then (staticpods.Options.APIServer waits for it to be ready again). The
// Leases are always taken etcd first, and no node waits for etcd's while it
// holds kube-apiserver's: no node waits for another that waits for it.
func (r *run) coordinator(ctx context.Context, out io.Writer) func(context.Context, string) (func(bool), error) {
	coordinate, _ := RestartGates(ctx, r.coordination(), out)
	return coordinate
}

// coordination is the run's Coordination (coordinator, APIServers).
func (r *run) coordination() Coordination {
	name := r.o.Cluster.NodeName
	if name == "" {
		name, _ = nodeName(r.o.ConfigFile)
	}
	return Coordination{Client: r.o.Restart.Client, Kubeconfig: r.o.Restart.Kubeconfig, Context: r.o.Restart.Context, KubeconfigDir: r.o.KubeconfigDir, NodeName: name,
		Now: r.o.Now, Sleep: r.o.Sleep, Rand: r.o.Rand, WithAPIServer: r.set != nil && r.set.APIServerAddress() != "", Warn: r.warning, Wait: r.o.Restart.leaseWait()}
}

// Coordination is what RestartGates needs: the API client (nil: one found
// as every command finds it, internal/kubeclient: Kubeconfig, else
// KubeconfigDir's admin.conf, ...), the node's name for the Lease's holder,
// clock and randomness, and whether the node runs a kube-apiserver. The
// Leases last DefaultLeaseDuration, and are waited for Wait
// (DefaultLeaseWait when 0).
type Coordination struct {
	Client        kubernetes.Interface
	Kubeconfig    string // --kubeconfig
	Context       string // --context
	KubeconfigDir string
	NodeName      string
	// Now and Sleep are the clock of the waits for the Leases (time.Now
	// and Sleep when nil): give both or neither, as a Now that moves only
	// when Sleep is called never reaches a deadline with the real Sleep.
	Now           func() time.Time
	Sleep         func(ctx context.Context, d time.Duration) error
	Rand          io.Reader
	WithAPIServer bool
	// Warn receives each warning of the Leases (one taken over by another
	// node while this one restarted, one that could not be freed), without
	// "[warning] ", for the caller's summary; printed on out when nil.
	Warn func(msg string)
	// Wait bounds the wait for each Lease, and APIServers' wait for
	// another ready kube-apiserver; DefaultLeaseWait when 0.
	Wait time.Duration
	// source is where Client's credentials come from
	// (kubeclient.Client.Source), set by RestartGates with the client it
	// made, for APIServers' errors; "" when unknown.
	source string
}

// RestartGates returns the two gates of the restarts of every workflow
// (renew, CA rotation), which share one API client: coordinate
// (staticpods.Options.Coordinate) and apiServers
// (staticpods.Options.APIServers). coordinate takes the component's Lease
// in kube-system, so that one control-plane node at a time restarts it. Its
// caller holds certctl's lock beside the certificate folder while it
// restarts: a Lease held by another run of c.NodeName is then one of a
// run that is over, and is taken over at once. It returns nil, after
// saying so on out, when the API server cannot be reached or its
// certificate does not verify (unreachable): the node then restarts alone. When the API server answers but
// refuses the Leases (401, 403), every restart fails with what to do and
// stays owed.
//
// apiServers (APIServers), the check of the other kube-apiservers, lists
// the mirror pods with the same client: a run parses the
// kubeconfig and makes its API client once. Both are nil when the node
// restarts alone.
func RestartGates(ctx context.Context, c Coordination, out io.Writer) (coordinate func(context.Context, string) (func(bool), error), apiServers *staticpods.APIServers) {
	alone := func(why string, err error) {
		fmt.Fprintf(out, "[restart] This node restarts alone, without waiting for the other control-plane nodes' restarts: %s (%v)\n", why, err)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Rand = cmp.Or(c.Rand, rand.Reader)
	client, source, err := c.client()
	if err != nil {
		alone("no API client", err)
		return nil, nil
	}
	c.Client, c.source = client, source
	apiServers = APIServers(c, cmp.Or(c.Wait, DefaultLeaseWait))
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := client.CoordinationV1().Leases(metav1.NamespaceSystem).List(pctx, metav1.ListOptions{Limit: 1}); err != nil {
		if refused := leasesRefused(err, source); refused != nil {
			// The API server answers, so the other nodes may restart under
			// their Leases: restarting without one could take a second etcd
			// member or kube-apiserver down. Every restart fails and stays owed.
			return func(context.Context, string) (func(bool), error) { return nil, refused }, apiServers
		}
		alone(unreachable(err), err)
		return nil, nil
	}
	suffix := make([]byte, 4)
	_, _ = io.ReadFull(c.Rand, suffix)
	l := &restartLease{client: client, namespace: metav1.NamespaceSystem, identity: fmt.Sprintf("%s_%x", c.NodeName, suffix), node: c.NodeName,
		duration: DefaultLeaseDuration, wait: cmp.Or(c.Wait, DefaultLeaseWait), poll: time.Second, every: 10 * time.Second, now: c.Now, sleep: c.Sleep, out: out, warn: c.Warn}
	return func(ctx context.Context, component string) (func(bool), error) {
		release, err := l.acquire(ctx, component, component)
		if err != nil || component != pki.Etcd || !c.WithAPIServer {
			return release, err
		}
		releaseAPI, err := l.acquire(ctx, pki.KubeAPIServer, component)
		if err != nil {
			release(true) // nothing was restarted
			return nil, err
		}
		return func(ok bool) { releaseAPI(ok); release(ok) }, nil
	}, apiServers
}

// unreachable says why the Lease list failed with err, which is not a
// refusal: an API server whose certificate does not verify (expired with
// the rest of the node's, or of a CA the kubeconfig does not hold) did
// answer the TLS handshake, and "cannot be reached" would send the SRE to
// look for a process that is down or a port that is closed. Both make the
// node restart alone: the Leases cannot be asked for, and a cluster whose
// certificates all expired is fixed only by restarts without them.
func unreachable(err error) string {
	var verify *tls.CertificateVerificationError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &verify) || errors.As(err, &invalid) || errors.As(err, &host) || errors.As(err, &unknown) {
		return "the API server's certificate does not verify, so the Leases cannot be asked for"
	}
	return "the API server cannot be reached"
}

// client returns c.Client, else the API client found as every command
// finds it (internal/kubeclient), and the source of its credentials
// (c.source for c.Client).
func (c Coordination) client() (kubernetes.Interface, string, error) {
	if c.Client != nil {
		return c.Client, c.source, nil
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	k, err := kubeclient.New(kubeclient.Options{Kubeconfig: c.Kubeconfig, Context: c.Context, KubeconfigDir: c.KubeconfigDir, UserAgent: "certctl", Now: now})
	if err != nil {
		return nil, "", err
	}
	return k, k.Source, nil
}

// leasesRefused is the error of every restart when the API server answered
// the Lease list with err and refused it (401, 403) to the credentials of
// source (kubeclient.Client.Source; "" when unknown); nil for another error.
func leasesRefused(err error, source string) error {
	who := cmp.Or(source, "the API client")
	switch {
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the API server refuses the credentials of %s for the Leases of kube-system that serialise the restarts across nodes (%w): the restart stays owed and the next run retries it; renew them (certctl renew admin.conf for the node's admin.conf), then run certctl again", who, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("the API server refuses the Leases of kube-system that serialise the restarts across nodes to the user of %s (%w): the restart stays owed and the next run retries it; give that user get, list, create and update on leases in kube-system (kubeadm's admin.conf has them), then run certctl again", who, err)
	}
	return nil
}
