package apirenew

import (
	"cmp"
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/certificate/csr"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// DefaultTimeout bounds the wait for approval and issuance: the kubelet's
// wait for its own client certificate (pkg/kubelet/certificate/bootstrap).
const DefaultTimeout = 15 * time.Minute

// DefaultProgressInterval is how often a progress line is printed while
// waiting.
const DefaultProgressInterval = 10 * time.Second

// MinValidity is the shortest validity renewal through the certificates
// API asks for: the API accepts 10 minutes (spec.expirationSeconds >=
// 600), but accept refuses a certificate valid for less than
// policy.MinValidity (an hour) once it is issued, and so would every new
// key and CSR after it.
const MinValidity = policy.MinValidity

// Options configure an Issuer. Client, NodeName and PendingDir are required.
type Options struct {
	// Client creates and watches CSRs: its user needs create, get, list
	// and watch on certificatesigningrequests.
	Client kubernetes.Interface
	// Server is the API server's URL, for error messages.
	Server string
	// Credentials says where the client's credentials come from, for
	// error messages: "kubeconfig /etc/kubernetes/admin.conf".
	Credentials string
	// User is the user the credentials name as far as the caller knows
	// (a client certificate's CN), for error messages when the API server
	// does not say (SelfSubjectReview).
	User string
	// NodeName names the CSRs (see CSRName).
	NodeName string
	// PendingDir keeps the keys of CSRs not installed yet (see PendingDir).
	// It is created 0700 when needed, each key 0600.
	PendingDir string
	// SignerNames overrides, by certificate name, the signer name of
	// DefaultSignerName.
	SignerNames map[string]string
	// Timeout bounds creating the CSRs and waiting for every certificate;
	// DefaultTimeout when zero.
	Timeout time.Duration
	// NewRequest makes a new key and CSR even when a pending key exists,
	// for every certificate; NewRequestFor, for those it names only.
	NewRequest    bool
	NewRequestFor []string
	// ProgressInterval is the time between progress lines;
	// DefaultProgressInterval when zero.
	ProgressInterval time.Duration
	// SignerHintAfter is how long an approved CSR waits for its signer
	// before a line says which component should issue it;
	// DefaultSignerHintAfter when zero.
	SignerHintAfter time.Duration
	// ForbiddenGrace is how long the API server must keep refusing to
	// list or watch the CSRs before the wait stops and says so (see
	// watchGuard); DefaultForbiddenGrace when zero.
	ForbiddenGrace time.Duration
	// AlreadyInstalled is what Issue returns, having printed which, when
	// every certificate it obtained is installed already: another run of
	// the same command, waiting on the same CSRs, got certctl's lock first
	// and installed them. The caller's renewal then writes nothing: no
	// backup (it would hold the new certificates), no restart. An error
	// saying so when nil.
	AlreadyInstalled error
	// ApproveFlags are shown after `certctl approve NAME` in the
	// instructions, for example "--config kubeadm.yaml", so that the
	// approver checks the request against the same configuration.
	ApproveFlags string
	// ApproveKubeconfig is added to the approve commands when they need
	// it to reach the same cluster: " --kubeconfig /etc/kubernetes/admin.conf"
	// when renew used KUBECONFIG-DIR/admin.conf, which kubectl and
	// `certctl approve` do not look for.
	ApproveKubeconfig string
	// RerunFlags are added to the renew command printed for what is not
	// issued (see IncompleteError.Rerun): the folders, --config,
	// --kubeconfig of this run.
	RerunFlags string
	// Out receives the CSR names, approval instructions and progress
	// lines; io.Discard when nil.
	Out io.Writer
	// Clock ticks the progress lines and measures the time waited;
	// clock.RealClock when nil.
	Clock clock.WithTicker
	// Now is the time an issued certificate must be valid at to be kept
	// for the install (see notYetValid): the renewal's clock, which
	// refuses one valid only later. time.Now when nil: Clock only paces
	// the wait.
	Now func() time.Time
	// Rand is the source of randomness for keys and CSR signatures;
	// crypto/rand when nil. It must be safe for concurrent use.
	Rand io.Reader
}

// Issuer issues renewal's certificates through the certificates API. Use
// Obtain to request and wait before taking certctl's lock, then give it to
// renewal.Renew as Options.Issuer, then call Installed.
type Issuer struct {
	o       Options
	pending pending
	got     map[string]renewal.Issued // by certificate name
	csrs    map[string]string         // the CSR of each certificate in got
	// jobs are Obtain's, for the lines that depend on the others.
	jobs []*job
}

var _ renewal.Issuer = (*Issuer)(nil)

// New checks o and fills its defaults.
func New(o Options) (*Issuer, error) {
	if o.Client == nil || o.NodeName == "" || o.PendingDir == "" {
		return nil, fmt.Errorf("apirenew: a client, a node name and a pending-key folder are required")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = DefaultProgressInterval
	}
	if o.SignerHintAfter <= 0 {
		o.SignerHintAfter = DefaultSignerHintAfter
	}
	if o.ForbiddenGrace <= 0 {
		o.ForbiddenGrace = DefaultForbiddenGrace
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Issuer{o: o, pending: pending{dir: o.PendingDir}, got: map[string]renewal.Issued{}, csrs: map[string]string{}}, nil
}

// job is one certificate being requested.
type job struct {
	req     renewal.Request
	signer  string
	usages  []certv1.KeyUsage
	key     crypto.Signer
	resumed bool
	name    string
	uid     types.UID
	// state is what a resumed CSR's conditions say ("approved already",
	// "created again: needs a new approval"), for the instructions.
	state string
	// needsApproval is false for a resumed CSR approved, denied or failed
	// already: the instructions do not ask for it.
	needsApproval bool
	// phase and why are where its CSR stands (see observe); approvedAt
	// is when the wait saw it approved, hinted whether it said which
	// signer should issue it.
	phase      phase
	why        string
	approvedAt time.Time
	hinted     bool
}

// errTimedOut is the cause of the context of a run that waited Timeout.
var errTimedOut = errors.New("timed out")

// Obtain requests a certificate for each request and waits until all are
// issued, Timeout at most: it checks every request first, then makes (or
// finds, in the pending-key folder) a key per certificate, creates every
// CSR, prints their names and how to approve them, and waits for all of
// them at once, so that one round of approvals covers a whole run. The
// certificates are kept for Issue.
//
// When some CSRs are not issued (denied, failed, deleted, or still
// waiting at the timeout) it returns an *IncompleteError that names them
// and the certificates it did obtain, which Issue returns: the caller
// may install those. A CSR denied or failed in an earlier run (noted in
// the pending-key folder) is reported, not waited for: it needs
// --new-request NAME. An interruption is an error and keeps nothing. The
// keys of the CSRs not issued stay in the pending-key folder, so that the
// same command run again picks up the same CSRs.
func (is *Issuer) Obtain(ctx context.Context, reqs []renewal.Request) error {
	if len(reqs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeoutCause(ctx, is.o.Timeout, errTimedOut)
	defer cancel()
	// client-go's csr package logs "csr for this node already exists,
	// reusing" through klog: certctl prints what it does itself.
	ctx = klog.NewContext(ctx, logr.Discard())
	jobs, err := plan(&is.o, reqs)
	if err != nil {
		return err
	}
	is.jobs = jobs
	if err := is.checkAccess(ctx); err != nil {
		return err
	}
	if err := is.keys(ctx, jobs); err != nil {
		// Stopped while keys were generated (--timeout, a signal): no
		// CSR names the keys this run saved, which would only be left
		// behind.
		for _, j := range jobs {
			if j.key != nil && !j.resumed {
				_ = is.pending.remove(j.req.Name, j.key.Public())
			}
		}
		return err
	}
	for i, j := range jobs {
		if err := is.create(ctx, j); err != nil {
			// A key made by this run whose CSR does not exist would only
			// be left behind: nothing is changed when no CSR could be made.
			for _, k := range jobs[i:] {
				if !k.resumed {
					_ = is.pending.remove(k.req.Name, k.key.Public())
				}
			}
			return err
		}
	}
	is.printInstructions(jobs)
	return is.notYetValid(jobs, is.wait(ctx, jobs))
}

// notYetValid takes out of what wait obtained (err: its error, nil or an
// *IncompleteError) the certificates valid only from a time ahead of this
// host's clock (Options.Now): renewal would refuse each, and with it the
// whole batch. They are reported as not issued instead, with what to do,
// so that the others install (exit status 6, as for a CSR not issued yet;
// none is installed when none is left); their keys stay pending, and the
// same command installs them once the clock is right.
func (is *Issuer) notYetValid(jobs []*job, err error) error {
	var inc *IncompleteError
	if err != nil && !errors.As(err, &inc) {
		return err
	}
	now, changed := is.o.Now(), false
	for _, j := range jobs {
		got, ok := is.got[j.req.Name]
		if j.phase != phaseIssued || !ok || !got.Cert.NotBefore.After(now) {
			continue
		}
		ahead := got.Cert.NotBefore.Sub(now)
		j.phase, changed = phaseNotYetValid, true
		j.why = fmt.Sprintf("was issued a certificate valid only from %s, %v ahead of this host's clock (%s): set this host's clock right (timedatectl, NTP), or wait until then, and run the same command again, which installs that certificate",
			got.Cert.NotBefore.UTC().Format(time.RFC3339), ahead.Round(time.Second), now.UTC().Format(time.RFC3339))
		fmt.Fprintf(is.o.Out, "[renew] CSR %s for %s %s\n", j.name, j.req.Name, j.why)
		delete(is.got, j.req.Name)
		delete(is.csrs, j.req.Name)
	}
	if !changed {
		return err
	}
	cause := ""
	if inc != nil {
		cause = inc.Cause
	}
	return is.incomplete(jobs, cause)
}

// Check refuses what Obtain refuses before it makes a key or creates a
// CSR: the requests the certificates API cannot issue as certctl needs
// them (a signer name that cannot issue one, a validity under
// MinValidity or beyond spec.expirationSeconds, an extended key usage
// the API has no name for, a --new-request name not among them), a
// pending-key folder that is not a private folder, and a pending key that
// cannot be read when --new-request does not replace it. It asks nothing
// of the API (Obtain's access review) and writes nothing, so that the dry
// run of `renew --use-api` reports what the real run would refuse, in
// the same words. It reads SignerNames, NewRequest, NewRequestFor and
// PendingDir of o.
func Check(o Options, reqs []renewal.Request) error {
	if len(reqs) == 0 {
		return nil
	}
	jobs, err := plan(&o, reqs)
	if err != nil {
		return err
	}
	p := pending{dir: o.PendingDir}
	if err := p.check(); err != nil {
		return err
	}
	for _, j := range jobs {
		if _, _, err := p.loadFor(j.req.Name, o.fresh(j.req.Name)); err != nil {
			return err
		}
	}
	return nil
}

// fresh reports whether the certificate called name gets a new key and
// CSR even when a pending key exists (--new-request).
func (o *Options) fresh(name string) bool {
	return o.NewRequest || slices.Contains(o.NewRequestFor, name)
}

// plan checks every request before anything is written or created.
func plan(o *Options, reqs []renewal.Request) ([]*job, error) {
	targets := make([]renewal.Target, len(reqs))
	names := make([]string, len(reqs))
	for i, r := range reqs {
		targets[i], names[i] = r.Target, r.Name
	}
	signers, err := SignerNames(targets, o.SignerNames)
	if err != nil {
		return nil, err
	}
	for _, n := range o.NewRequestFor {
		if !slices.Contains(names, n) {
			return nil, fmt.Errorf("--new-request names %s, which this run does not renew (it renews %s): add it to the names, or drop it from --new-request", n, strings.Join(names, ", "))
		}
	}
	var jobs []*job
	for _, r := range reqs {
		j := &job{req: r, signer: signers[r.Name], needsApproval: true}
		if err := CheckSigner(r, j.signer); err != nil {
			return nil, err
		}
		if r.Validity < MinValidity {
			return nil, fmt.Errorf("certificate validity %v is below %v, certctl's minimum: a certificate issued for less would be refused once approved; raise certificateValidityPeriod (--certificate-validity)", r.Validity, MinValidity)
		}
		if r.Validity > math.MaxInt32*time.Second {
			return nil, fmt.Errorf("certificate validity %v does not fit in spec.expirationSeconds (at most %d seconds, about 68 years): lower certificateValidityPeriod in --config, or --certificate-validity", r.Validity, math.MaxInt32)
		}
		if j.usages, err = Usages(r.Current); err != nil {
			return nil, fmt.Errorf("request %s: %w", r.Name, err)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// keys gives each job its pending key, or a new one saved as pending
// before any CSR names it.
func (is *Issuer) keys(ctx context.Context, jobs []*job) error {
	if err := is.pending.check(); err != nil {
		return err
	}
	if _, err := atomicfile.CleanTemp(is.pending.dir); err != nil {
		return err
	}
	need := map[pki.KeyAlgorithm]int{}
	for _, j := range jobs {
		// --new-request: a new key and CSR even when a pending key exists.
		fresh := is.o.fresh(j.req.Name)
		k, replaced, err := is.pending.loadFor(j.req.Name, fresh)
		if err != nil {
			return err
		}
		if replaced != nil {
			// Its CSR, if any, can never be installed: the new key
			// replaces the file.
			fmt.Fprintf(is.o.Out, "[renew] %v: replacing the pending key with a new key and CSR (--new-request)\n", replaced)
		}
		switch {
		case k == nil || fresh:
		case pki.SamePublicKey(k.Public(), j.req.Current.PublicKey):
			// Installed by an earlier run that stopped before it
			// removed the key: a renewal needs a new one.
			if err := is.pending.remove(j.req.Name, k.Public()); err != nil {
				return err
			}
			fmt.Fprintf(is.o.Out, "[renew] Removed the pending key of %s: its certificate is installed\n", j.req.Name)
		case pki.AlgorithmOf(k.Public()) != j.req.KeyAlgorithm:
			fmt.Fprintf(is.o.Out, "[renew] The pending key of %s is %s, not %s: making a new key and CSR\n", j.req.Name, pki.AlgorithmOf(k.Public()), j.req.KeyAlgorithm)
		default:
			j.key, j.resumed = k, true
		}
		if j.key == nil {
			need[j.req.KeyAlgorithm]++
		}
	}
	pools := map[pki.KeyAlgorithm]*pki.KeyPool{}
	for alg, n := range need {
		pools[alg] = pki.NewKeyPool(is.o.Rand, alg, n, runtime.GOMAXPROCS(0))
		defer pools[alg].Close()
	}
	for _, j := range jobs {
		if j.key != nil {
			continue
		}
		k, err := pools[j.req.KeyAlgorithm].Get(ctx)
		switch {
		case err != nil && errors.Is(context.Cause(ctx), errTimedOut):
			return fmt.Errorf("generate %s key for %s: timed out after %v (--timeout) before the key was made (%w): run again with a longer --timeout; nothing was changed", j.req.KeyAlgorithm, j.req.Name, is.o.Timeout, err)
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("generate %s key for %s: %w; nothing was changed", j.req.KeyAlgorithm, j.req.Name, err)
		case err != nil:
			return fmt.Errorf("generate %s key for %s: %w", j.req.KeyAlgorithm, j.req.Name, err)
		}
		if beforePendingSave != nil {
			beforePendingSave(j.req.Name)
		}
		if is.o.fresh(j.req.Name) {
			// --new-request: this key replaces whatever is pending.
			if err := is.pending.save(j.req.Name, k); err != nil {
				return err
			}
			j.key = k
			continue
		}
		// Another run of the same command may have saved its key since
		// this one looked: take it, so that both wait on one CSR.
		theirs, err := is.pending.create(j.req.Name, k)
		if err != nil {
			return err
		}
		switch {
		case theirs == nil:
			j.key = k
		case pki.AlgorithmOf(theirs.Public()) == j.req.KeyAlgorithm && !pki.SamePublicKey(theirs.Public(), j.req.Current.PublicKey):
			fmt.Fprintf(is.o.Out, "[renew] Another run saved a pending key of %s meanwhile: using it, so that both wait on the same CSR\n", j.req.Name)
			j.key, j.resumed = theirs, true
		default:
			if err := is.pending.save(j.req.Name, k); err != nil {
				return err
			}
			j.key = k
		}
	}
	return nil
}

// beforePendingSave, when set (by tests), runs just before a new pending
// key is saved: another run may save its own then.
var beforePendingSave func(target string)

// create creates the job's CSR, or finds the one an earlier run created
// with the same key: RequestCertificateWithContext reuses a CSR of the
// same name whose subject and signer name match and whose request the key
// signed. For a resumed job it notes what that CSR says, for the
// instructions: a CSR that is gone (kube-controller-manager's cleaner
// deletes CSRs an hour after their approval) is created again, and needs
// a new approval.
func (is *Issuer) create(ctx context.Context, j *job) error {
	var err error
	if j.name, err = CSRName(is.o.NodeName, j.req.Name, j.key.Public()); err != nil {
		return err
	}
	if ph, why, ok := is.pending.refused(j.req.Name, j.name); j.resumed && ok {
		// Refused in an earlier run: not waited for, and not created
		// again once kube-controller-manager's cleaner has deleted it.
		j.phase, j.why, j.needsApproval = ph, why+" in an earlier run", false
		j.state = "refused in an earlier run: renew it with --new-request=" + j.req.Name
		return nil
	}
	req, err := pki.NewCSR(is.o.Rand, j.req.Profile, j.key)
	if err != nil {
		return err
	}
	var before *certv1.CertificateSigningRequest
	var getErr error
	if j.resumed {
		if before, getErr = is.o.Client.CertificatesV1().CertificateSigningRequests().Get(ctx, j.name, metav1.GetOptions{}); getErr != nil {
			before = nil
		}
	}
	d := j.req.Validity
	name, uid, err := csr.RequestCertificateWithContext(ctx, is.o.Client, pki.EncodeCSR(req), j.name, j.signer, &d, j.usages, j.key)
	if err != nil {
		return is.createError(ctx, j, err)
	}
	j.name, j.uid = name, uid
	j.state, j.needsApproval = resumedState(j, before, getErr)
	if before != nil && before.UID == uid {
		if p, why := phaseOf(j, before); p.refused() {
			// Said on the job's line (the state), not on a line of its
			// own: the other jobs are not created yet, so whether others
			// go on is not known here.
			j.phase, j.why = p, why
			is.noteRefused(j, why)
			j.state += ": renew it with --new-request=" + j.req.Name
		}
	}
	return nil
}

// resumedState says, for the instructions, what the CSR of a resumed job
// says, and whether it still needs an approval: before is the CSR as it
// was just before RequestCertificateWithContext, nil when getErr (not
// found, or another error) kept it from being read.
func resumedState(j *job, before *certv1.CertificateSigningRequest, getErr error) (string, bool) {
	switch {
	case !j.resumed:
		return "", true
	case before == nil && !apierrors.IsNotFound(getErr):
		return "state unknown", true
	case before == nil || before.UID != j.uid:
		return "created again: needs a new approval", true
	}
	switch p, why := phaseOf(j, before); p {
	case phasePending:
		return "pending approval", true
	case phaseIssued:
		return "issued already", false
	case phaseApproved:
		return "approved already, not issued yet", false
	default:
		return strings.TrimPrefix(why, "was "), false
	}
}

// Issue returns the certificate and key of each request: those Obtain got,
// and for the others it obtains them now. renewal.Renew calls it under
// certctl's lock, with the certificates it has just read: when those are
// the ones obtained, another run installed them (see alreadyInstalled).
func (is *Issuer) Issue(ctx context.Context, reqs []renewal.Request) ([]renewal.Issued, error) {
	if err := is.alreadyInstalled(reqs); err != nil {
		return nil, err
	}
	var missing []renewal.Request
	for _, r := range reqs {
		if _, ok := is.got[r.Name]; !ok {
			missing = append(missing, r)
		}
	}
	if err := is.Obtain(ctx, missing); err != nil {
		return nil, err
	}
	out := make([]renewal.Issued, len(reqs))
	for i, r := range reqs {
		out[i] = is.got[r.Name]
		if out[i].Key != nil {
			// Removed in the install's own transaction: a kill right
			// after its commit leaves no copy of the key put in use.
			out[i].Remove = is.pending.removal(r.Name, out[i].Key.Public())
		}
		if err := stillFits(r, out[i]); err != nil {
			is.noteUnfit(r.Name, out[i], err)
			return nil, fmt.Errorf("renew %s: %w: it is the certificate CSR %s was issued for %s as it was when this run requested it, which has changed since (renewed by another run, or its CA replaced), and a CSR's certificate never changes: if it still needs renewing, renew it with a new key and CSR: %s; nothing was replaced",
				r.Name, err, is.csrs[r.Name], r.Name, is.rerun(requestNames(reqs), []string{r.Name}))
		}
	}
	return out, nil
}

// stillFits checks got, the certificate obtained for r, as
// accept checked it when its CSR was issued (pki.VerifyIssued,
// policy.IssuedForCSR), with r as renewal read it under the lock: it
// fails only when the files changed since the request (another run
// renewed the certificate with other SANs, a CA was replaced). renewal
// checks it too, but with the advice for a CA that can sign again
// (policy.Issued); a CSR's certificate never changes, so the same command
// run again would fail the same way: only a new key and CSR renews it.
// Checked at its own NotBefore: a certificate not valid yet (a clock
// behind) is not one of these, and renewal says so.
func stillFits(r renewal.Request, got renewal.Issued) error {
	if got.Cert == nil || got.Key == nil {
		return nil
	}
	err := policy.IssuedForCSR(got.Cert, r.Profile)
	if r.CA != nil {
		err = cmp.Or(pki.VerifyIssued(got.Cert, nil, got.Key.Public(), r.CA, r.Profile, got.Cert.NotBefore), err)
	}
	return err
}

// noteUnfit notes, as accept notes a certificate it refuses (a rejected
// CSR), that the certificate got, obtained for target, was refused under
// the lock (stillFits: err): that CSR's certificate never changes, so the
// next run says at once that it was refused in an earlier run and asks
// for --new-request=TARGET, instead of fetching it and refusing it again;
// --new-request's new key removes the note. Not when the pending key is
// no longer got's (another run saved a new one since): the note would be
// of a CSR that is not the pending key's.
func (is *Issuer) noteUnfit(target string, got renewal.Issued, err error) {
	k, lerr := is.pending.load(target)
	if lerr != nil || k == nil || !pki.SamePublicKey(k.Public(), got.Key.Public()) {
		return
	}
	why := fmt.Sprintf(rejectedPrefix+" that no longer fits the files of %s, changed since its request by another run or a CA replaced (%v)", target, err)
	if merr := is.pending.markRefused(target, is.csrs[target], phaseChanged, why); merr != nil {
		fmt.Fprintf(is.o.Out, "[warning] %v\n", merr)
	}
}

// requestNames are the names of reqs' certificates.
func requestNames(reqs []renewal.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Name
	}
	return out
}

// Installed removes the pending keys of the certificates called names,
// once renewal has installed them, and the pending-key folder when that
// leaves it empty. The install's transaction removed them already (Issue
// gives them as renewal.Issued.Remove); this removes one it could not
// give (a key that could not be read then).
func (is *Issuer) Installed(names []string) error {
	var errs []error
	for _, n := range names {
		if got, ok := is.got[n]; ok {
			errs = append(errs, is.pending.remove(n, got.Key.Public()))
		}
	}
	_ = os.Remove(is.pending.dir) // fails while it holds other keys, which is what we want
	return errors.Join(errs...)
}
