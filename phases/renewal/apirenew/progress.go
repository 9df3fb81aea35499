package apirenew

import (
	"fmt"
	"slices"
	"strings"
	"time"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/phases/signer"
)

// DefaultSignerHintAfter is how long an approved CSR may wait for its
// signer before the wait says which component should have issued it.
// kube-controller-manager and `certctl signer run` issue within a second.
const DefaultSignerHintAfter = 30 * time.Second

// phase is where a job's CSR stands, as the wait last saw it.
type phase int

const (
	phasePending  phase = iota // not approved yet
	phaseApproved              // approved, not issued yet
	phaseIssued                // issued, and the certificate kept
	phaseDenied                // denied: it will never be issued
	phaseFailed                // the signer refused it
	phaseGone                  // deleted (or replaced) before it was issued
	// phaseNotYetValid: issued a certificate valid only from a time ahead
	// of this host's clock, which renewal would refuse; the same command
	// installs it once the clock is right (its key stays pending).
	phaseNotYetValid
	// phaseRejected: issued a certificate that certctl refuses (accept):
	// approved and issued, but it will never be installed.
	phaseRejected
	// phaseChanged: issued a certificate that an earlier run refused under
	// certctl's lock (Issue, stillFits), the files having changed since its
	// request: rejected, but not for its signer's fault.
	phaseChanged
)

// done reports whether the wait is over for a job in p.
func (p phase) done() bool { return p >= phaseIssued }

// refused reports whether a job in p can only be renewed with a new key
// and CSR (--new-request NAME).
func (p phase) refused() bool {
	return p == phaseDenied || p == phaseFailed || p == phaseRejected || p == phaseChanged
}

// state says where j stands, for progress lines and messages: "pending
// approval", "approved, waiting for signer S", "denied (reason ...)".
func (j *job) stateText() string {
	switch j.phase {
	case phasePending:
		return "pending approval"
	case phaseApproved:
		return "approved, waiting for signer " + j.signer
	case phaseIssued:
		return "issued"
	}
	return j.why
}

// setPhase records j's new phase and says so on one line.
func (is *Issuer) setPhase(j *job, p phase, why string) {
	if j.phase == p && j.why == why {
		return
	}
	j.phase, j.why = p, why
	switch p {
	case phasePending:
		// A CSR starts pending: nothing to say.
	case phaseApproved:
		j.approvedAt = is.o.Clock.Now()
		fmt.Fprintf(is.o.Out, "[renew] CSR %s for %s approved: waiting for signer %s to issue it\n", j.name, j.req.Name, j.signer)
	case phaseDenied, phaseFailed, phaseRejected:
		others := ""
		if slices.ContainsFunc(is.jobs, func(k *job) bool { return k != j && !k.phase.done() }) {
			others = "; the others go on"
		}
		fmt.Fprintf(is.o.Out, "[renew] CSR %s for %s %s: it will not be installed%s\n", j.name, j.req.Name, why, others)
		is.noteRefused(j, why)
	case phaseGone:
		fmt.Fprintf(is.o.Out, "[renew] CSR %s for %s %s\n", j.name, j.req.Name, why)
	}
}

// noteRefused notes beside j's pending key that its CSR was refused, so
// that the next run does not wait for it.
func (is *Issuer) noteRefused(j *job, why string) {
	if err := is.pending.markRefused(j.req.Name, j.name, j.phase, why); err != nil {
		fmt.Fprintf(is.o.Out, "[warning] %v\n", err)
	}
}

// observe updates j from its CSR c, as the watch shows it now (gone:
// deleted), and keeps the certificate once issued.
func (is *Issuer) observe(j *job, c *certv1.CertificateSigningRequest, gone bool) {
	switch {
	case j.phase.done():
		return
	case gone || c.UID != j.uid:
		is.setPhase(j, phaseGone, "was deleted before it was issued: run the same command again to create it again")
		return
	}
	p, why := phaseOf(j, c)
	if p == phaseIssued {
		if err := is.accept(j, c.Status.Certificate); err != nil {
			p, why = phaseRejected, err.Error()
		}
	}
	is.setPhase(j, p, why)
}

// phaseOf is where CSR c of j stands, and why for a denied or failed one.
func phaseOf(j *job, c *certv1.CertificateSigningRequest) (phase, string) {
	for _, cond := range c.Status.Conditions {
		switch cond.Type {
		case certv1.CertificateDenied:
			return phaseDenied, "was denied " + conditionCause(cond)
		case certv1.CertificateFailed:
			return phaseFailed, fmt.Sprintf("failed: the signer %s refused it %s", j.signer, conditionCause(cond))
		}
	}
	switch {
	case !signer.IsApproved(c):
		return phasePending, ""
	case len(c.Status.Certificate) > 0:
		return phaseIssued, ""
	}
	return phaseApproved, ""
}

// printProgress is the line printed every ProgressInterval: what is still
// awaited, grouped by state.
func (is *Issuer) printProgress(jobs []*job, start time.Time) {
	var states []string
	byState := map[string][]string{}
	left := 0
	for _, j := range jobs {
		if j.phase.done() {
			continue
		}
		left++
		s := j.stateText()
		if _, ok := byState[s]; !ok {
			states = append(states, s)
		}
		byState[s] = append(byState[s], fmt.Sprintf("%s (%s)", j.name, j.req.Name))
	}
	var parts []string
	for _, s := range states {
		parts = append(parts, s+": "+strings.Join(byState[s], ", "))
	}
	fmt.Fprintf(is.o.Out, "[renew] Waited %v; %d of %d CSR(s) not issued yet: %s\n", is.o.Clock.Since(start).Round(time.Second), left, len(jobs), strings.Join(parts, "; "))
}

// hintDue prints, once per CSR, which component should issue the CSRs
// approved SignerHintAfter ago or more and not issued, one line per
// signer name. It returns when the next one falls due (zero: none).
func (is *Issuer) hintDue(jobs []*job) time.Time {
	now := is.o.Clock.Now()
	var signers []string
	late := map[string][]*job{}
	var next time.Time
	for _, j := range jobs {
		if j.phase != phaseApproved || j.hinted {
			continue
		}
		due := j.approvedAt.Add(is.o.SignerHintAfter)
		if now.Before(due) {
			if next.IsZero() || due.Before(next) {
				next = due
			}
			continue
		}
		j.hinted = true
		if !slices.Contains(signers, j.signer) {
			signers = append(signers, j.signer)
		}
		late[j.signer] = append(late[j.signer], j)
	}
	for _, s := range signers {
		var csrs []string
		for _, j := range late[s] {
			csrs = append(csrs, fmt.Sprintf("%s (%s)", j.name, j.req.Name))
		}
		fmt.Fprintf(is.o.Out, "[renew] CSR %s approved %v ago but signer %s has not issued it: %s\n",
			strings.Join(csrs, ", "), now.Sub(late[s][0].approvedAt).Round(time.Second), s, signerHint(s))
	}
	return next
}

// signerHint says which component issues signer name s, and how to
// check it.
func signerHint(s string) string {
	switch {
	case strings.HasPrefix(s, "kubernetes.io/"):
		return "is kube-controller-manager running, with --cluster-signing-cert-file and --cluster-signing-key-file (certctl signer enable)? See docs/signer.md"
	case signer.IsCertctlName(s):
		return "is `certctl signer run` running (with --allow-system-masters for super-admin.conf)? See docs/signer.md"
	}
	return "is the controller that signs for " + s + " running? See docs/signer.md"
}

// conditionCause is a Denied or Failed condition's reason and message, in
// parentheses: (reason "R": message), without the colon when there is no
// message (`certctl deny --reason R` gives none).
func conditionCause(c certv1.CertificateSigningRequestCondition) string {
	if c.Message == "" {
		return fmt.Sprintf("(reason %q)", c.Reason)
	}
	return fmt.Sprintf("(reason %q: %s)", c.Reason, c.Message)
}
