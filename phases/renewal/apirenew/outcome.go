package apirenew

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// NotIssued is a certificate whose CSR was not issued.
type NotIssued struct {
	Name string // the certificate: "super-admin.conf"
	CSR  string // its CSR's name
	// State says why, as the end of a sentence that starts "CSR NAME for
	// CERTIFICATE": "is pending approval", "was denied (reason ...)".
	State string
	// Refused: denied or failed, now or in an earlier run (or issued by
	// another CA). That CSR will never be issued: only a new key and CSR
	// (--new-request NAME) can renew the certificate. Otherwise the same
	// command run again picks up the same CSR and key.
	Refused bool
	// Rejected: refused because its CSR was issued a certificate certctl
	// does not install (another CA's, one that does not parse). It was
	// approved and issued: approving it again would change nothing.
	Rejected bool
	// Changed: Rejected, by an earlier run under certctl's lock, because
	// the certificate's files had changed since its request (renewed by
	// another run): its signer is not at fault.
	Changed bool
}

// IncompleteError is what Obtain returns when some CSRs were not issued:
// denied, failed, deleted, or still waiting at the timeout. The
// certificates it obtained (Obtained) are kept, for Issue: the caller may
// install them and report the others.
type IncompleteError struct {
	Obtained  []string // the certificates obtained, in the order of the requests
	NotIssued []NotIssued
	// Cause is what ended the wait before every CSR was answered
	// ("timed out after 15m0s"), or "".
	Cause string
	// Hints say which component should issue the CSRs approved and not
	// issued.
	Hints []string
	// Approve and Rerun are the commands that finish the job: approve the
	// CSRs still pending, then renew what is left.
	Approve, Rerun string
}

func (e *IncompleteError) Error() string {
	var b strings.Builder
	if e.Cause != "" {
		b.WriteString(e.Cause + " waiting for CSR(s): ")
	}
	var parts []string
	for _, n := range e.NotIssued {
		parts = append(parts, fmt.Sprintf("CSR %s for %s %s", n.CSR, n.Name, n.State))
	}
	b.WriteString(strings.Join(parts, "; "))
	for _, h := range e.Hints {
		b.WriteString("; " + h)
	}
	switch {
	case e.Approve != "" && e.Refused() != nil:
		fmt.Fprintf(&b, ". %s: %sit needs a new key and CSR (--new-request NAME). Approve the pending ones (%s), then run: %s", e.refusedWhy(), e.refusedFix(), e.Approve, e.Rerun)
	case e.Approve != "":
		fmt.Fprintf(&b, ". Approve them (%s), then run the same command again, or only: %s (it picks up the same CSRs and keys)", e.Approve, e.Rerun)
	case e.Refused() != nil:
		fmt.Fprintf(&b, ". %s: %srenew with a new key and CSR: %s", e.refusedWhy(), e.refusedFix(), e.Rerun)
	default:
		fmt.Fprintf(&b, ". Run: %s (it picks up the same CSRs and keys)", e.Rerun)
	}
	return b.String()
}

// refusedWhy says why the refused CSRs need a new key and CSR: a denied
// or failed CSR cannot be approved again, and one issued a certificate
// certctl refused was approved already, and its certificate never changes.
func (e *IncompleteError) refusedWhy() string {
	var denied, rejected bool
	for _, n := range e.NotIssued {
		denied = denied || n.Refused && !n.Rejected
		rejected = rejected || n.Rejected
	}
	switch {
	case denied && rejected:
		return "A denied or failed CSR cannot be approved again, and the certificate a CSR was issued never changes"
	case rejected:
		return "The certificate a CSR was issued never changes, and approving it again would not change it"
	}
	return "A denied or failed CSR cannot be approved again"
}

// refusedFix says what must be fixed before a new key and CSR ("once ...,
// "): the signer, when every refused CSR was issued a certificate certctl
// refused; nothing when each of those was refused only because its files
// changed since its request (Changed).
func (e *IncompleteError) refusedFix() string {
	signer := false
	for _, n := range e.NotIssued {
		if n.Refused && !n.Rejected {
			return "once the cause is fixed, "
		}
		signer = signer || n.Rejected && !n.Changed
	}
	if signer {
		return "once its signer is fixed, "
	}
	return ""
}

// Refused are the names of the certificates whose CSR was refused.
func (e *IncompleteError) Refused() []string {
	var out []string
	for _, n := range e.NotIssued {
		if n.Refused {
			out = append(out, n.Name)
		}
	}
	return out
}

// Names are the names of every certificate not issued.
func (e *IncompleteError) Names() []string {
	out := make([]string, len(e.NotIssued))
	for i, n := range e.NotIssued {
		out[i] = n.Name
	}
	return out
}

// incomplete returns nil when every job's certificate was obtained, else
// an *IncompleteError (cause: see IncompleteError.Cause).
func (is *Issuer) incomplete(jobs []*job, cause string) error {
	e := &IncompleteError{Cause: cause}
	for _, j := range jobs {
		if j.phase == phaseIssued {
			e.Obtained = append(e.Obtained, j.req.Name)
			continue
		}
		n := NotIssued{Name: j.req.Name, CSR: j.name, Refused: j.phase.refused(), Rejected: j.phase == phaseRejected || j.phase == phaseChanged, Changed: j.phase == phaseChanged, State: j.why}
		switch j.phase {
		case phasePending:
			n.State = "is pending approval"
		case phaseApproved:
			n.State = "was approved but signer " + j.signer + " has not issued it"
			if h := signerHint(j.signer); !slices.Contains(e.Hints, h) {
				e.Hints = append(e.Hints, h)
			}
		case phaseGone:
			n.State = "was deleted before it was issued"
		}
		e.NotIssued = append(e.NotIssued, n)
	}
	if len(e.NotIssued) == 0 {
		return nil
	}
	e.Approve = is.approveCommand(jobs)
	e.Rerun = is.rerun(e.Names(), e.Refused())
	return e
}

// approveCommand approves the CSRs of jobs that are pending approval:
// `kubectl certificate approve A B --kubeconfig FILE`; "" for none.
func (is *Issuer) approveCommand(jobs []*job) string {
	var pending []string
	for _, j := range jobs {
		if j.phase == phasePending {
			pending = append(pending, j.name)
		}
	}
	if len(pending) == 0 {
		return ""
	}
	return "kubectl certificate approve " + strings.Join(pending, " ") + is.o.ApproveKubeconfig
}

// rerun is the command that renews names, with a new key and CSR for
// fresh: `certctl renew A B --use-api --new-request=B` and RerunFlags.
func (is *Issuer) rerun(names, fresh []string) string {
	cmd := "certctl renew " + strings.Join(names, " ") + " --use-api"
	if len(fresh) > 0 {
		cmd += " --new-request=" + strings.Join(fresh, ",")
	}
	return cmd + is.o.RerunFlags
}

// rejectedPrefix starts what accept says of a certificate it refuses.
// A refusal note of an older certctl, which kept only those words, is
// read as a rejection by them (legacyKind).
const rejectedPrefix = "was issued a certificate"

// accept keeps the certificate issued for j, after checking that it parses,
// that the CA of the certificate it renews signed it (a certificate of
// another CA comes from a signer name that is not this CA's), and that it
// is what renewal installs (pki.VerifyIssued: j's key, the subject, SANs
// and usages asked for; policy.IssuedForCSR: nothing certctl's signers never
// issue). Its error says why the certificate cannot be
// installed.
func (is *Issuer) accept(j *job, certPEM []byte) error {
	certs, err := pki.ParseCerts(certPEM)
	if err != nil {
		return fmt.Errorf(rejectedPrefix+" that does not parse (%v)", err)
	}
	// Only the leaf is installed: renewal checks that the CA on disk
	// signed it directly.
	if j.req.CA != nil && certs[0].CheckSignatureFrom(j.req.CA) != nil {
		return fmt.Errorf(rejectedPrefix+" signed by %q, not by the CA %q of the certificate it renews: check that signer %s signs with that CA (--signer-name, or renewal.signerNames in --config)",
			certs[0].Issuer.CommonName, j.req.CA.Subject.CommonName, j.signer)
	}
	// What renewal checks under the lock (Issue does too), checked here,
	// before it: refused there, it stopped the install of the whole batch,
	// and with no refusal noted, every later run waited for it, got the
	// same certificate (a CSR's never changes) and stopped again. Refused
	// here, it is a failed CSR: noted, left out, and the others install
	// (exit status 6). At its own NotBefore: one valid only later is
	// notYetValid's.
	if j.req.CA != nil {
		if err := pki.VerifyIssued(certs[0], nil, j.key.Public(), j.req.CA, j.req.Profile, certs[0].NotBefore); err != nil {
			return fmt.Errorf(rejectedPrefix+" that cannot be installed (%v)", err)
		}
	}
	if err := policy.IssuedForCSR(certs[0], j.req.Profile); err != nil {
		return fmt.Errorf(rejectedPrefix+" that cannot be installed (%v)", err)
	}
	is.got[j.req.Name] = renewal.Issued{Key: j.key, Cert: certs[0]}
	is.csrs[j.req.Name] = j.name
	return nil
}

// collect gets each CSR not answered yet once more and updates its job
// (observe): one the watch missed, because it was refused or broke, is
// then seen. It returns the certificates kept that way, and whether
// every such CSR was got (answered: its state is current).
func (is *Issuer) collect(jobs []*job) (used []string, answered bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answered = true
	for _, j := range jobs {
		if j.phase.done() {
			continue
		}
		got, err := is.o.Client.CertificatesV1().CertificateSigningRequests().Get(ctx, j.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			is.observe(j, nil, true)
		case err != nil:
			// Its state stays what the watch last showed.
			answered = false
		default:
			is.observe(j, got, false)
			if j.phase == phaseIssued {
				used = append(used, j.name+" for "+j.req.Name)
			}
		}
	}
	return used, answered
}

// timedOut ends a wait at the timeout: the CSRs issued meanwhile are
// used, with a warning that certctl could not watch them, and the
// *IncompleteError names the others.
func (is *Issuer) timedOut(jobs []*job, guard *watchGuard) error {
	cause := fmt.Sprintf("timed out after %v", is.o.Timeout)
	down, downErr := guard.unanswered()
	used, answered := is.collect(jobs)
	switch {
	case downErr != nil && !answered && statusOf(downErr) >= http.StatusInternalServerError:
		// Up, but failing (etcd down behind it): as above, the states
		// are as last seen.
		cause += fmt.Sprintf(" (%s has answered only errors for the last %v: %v: %s. The CSRs' states below are as last seen)",
			is.apiServer(false), down.Round(time.Second), downErr, serverError("it", statusOf(downErr)))
	case downErr != nil && !answered:
		// The states are those seen before the API server went
		// away: an approval given since may not be among them.
		cause += fmt.Sprintf(" (%s has not answered for the last %v: %v: is it up and reachable? The CSRs' states below are as last seen)",
			is.apiServer(false), down.Round(time.Second), downErr)
	case len(used) > 0 && downErr != nil:
		fmt.Fprintf(is.o.Out, "[warning] CSR(s) %s issued while %s did not answer the watch (%v); certctl found them at the timeout, when it got each CSR once more\n",
			strings.Join(used, ", "), is.apiServer(false), downErr)
	case len(used) > 0:
		fmt.Fprintf(is.o.Out, "[warning] CSR(s) %s issued, but certctl could not watch them: grant %s list and watch on certificatesigningrequests (%s); certctl found them only at the timeout, when it got each CSR once more\n",
			strings.Join(used, ", "), is.who(is.o.User), grantCommand(is.o.User))
	}
	return is.incomplete(jobs, cause)
}

// forbiddenError ends a wait the API server refused to list or watch
// (werr): the certificates issued by then are used, with a warning, and
// the error says what to grant when some are not.
func (is *Issuer) forbiddenError(werr error, jobs []*job) error {
	_, _ = is.collect(jobs)
	uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	user := is.userName(uctx)
	left := describeLeft(jobs)
	if left == "" {
		what := "issued"
		if is.incomplete(jobs, "") != nil {
			what = "answered"
		}
		fmt.Fprintf(is.o.Out, "[warning] Every CSR is %s, but %s may not list or watch certificatesigningrequests (%v): certctl found them only once it stopped waiting; grant list and watch on them (%s)\n", what, is.who(user), werr, grantCommand(user))
		return is.incomplete(jobs, "")
	}
	return fmt.Errorf("stopped waiting for CSR(s) %s: %s may not list or watch certificatesigningrequests (%v), so certctl cannot see them issued; nothing was changed. Grant list and watch on them (%s), or approve the CSRs and run the same command again once they are issued: it picks up the same CSRs and keys",
		left, is.who(user), werr, grantCommand(user))
}

// stoppedError names the CSRs still waiting when the wait was
// interrupted, with their state and what to do.
// It carries exit status exitcode.Interrupted, which the process exits
// with and -o json reports, and keeps this message after a signal (a
// bare context.Canceled would become "interrupted; nothing was changed").
func (is *Issuer) stoppedError(jobs []*job) error {
	approve := is.approveCommand(jobs)
	if approve == "" {
		return &exitcode.Error{Code: exitcode.Interrupted, Err: fmt.Errorf("interrupted waiting for CSR(s) %s; nothing was changed. Run the same command again: it picks up the same CSRs and keys", describeLeft(jobs))}
	}
	return &exitcode.Error{Code: exitcode.Interrupted, Err: fmt.Errorf("interrupted waiting for CSR(s) %s; nothing was changed. Approve them (%s) and run the same command again: it picks up the same CSRs and keys",
		describeLeft(jobs), approve)}
}

// describeLeft lists the jobs not answered yet with their state.
func describeLeft(jobs []*job) string {
	var out []string
	for _, j := range jobs {
		if !j.phase.done() {
			out = append(out, fmt.Sprintf("%s for %s (signer %s): %s", j.name, j.req.Name, j.signer, j.stateText()))
		}
	}
	return strings.Join(out, "; ")
}
