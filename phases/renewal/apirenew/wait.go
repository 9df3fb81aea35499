package apirenew

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"

	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

// printInstructions says which CSRs exist and how to approve them.
func (is *Issuer) printInstructions(jobs []*job) {
	w := is.o.Out
	var names []string
	for _, j := range jobs {
		how := "new key in " + is.pending.path(j.req.Name)
		if j.resumed {
			how = "resumed with the pending key " + is.pending.path(j.req.Name)
		}
		if j.state != "" {
			how += ", " + j.state
		}
		if j.needsApproval {
			names = append(names, j.name)
		}
		fmt.Fprintf(w, "[renew] CSR %s for %s: signer %s (%s)\n", j.name, j.req.Name, j.signer, how)
	}
	if len(names) > 0 {
		// Commands that work as printed: with the kubeconfig renew used
		// when kubectl and certctl approve would not find it themselves.
		// One certctl command for them all: it finds this node's pending
		// CSRs by name, and by request where names collide (FromNode),
		// and checks each.
		// `certctl approve` refuses O=system:masters (super-admin.conf)
		// without --allow-system-masters.
		masters := ""
		for _, j := range jobs {
			if j.needsApproval && slices.Contains(j.req.Profile.Organization, pki.MastersGroup) {
				masters = " --allow-system-masters"
			}
		}
		fmt.Fprintf(w, "[renew] Approve with:\n  kubectl certificate approve %s%s\n", strings.Join(names, " "), is.o.ApproveKubeconfig)
		fmt.Fprintf(w, "  certctl approve --all-from-node %s%s%s%s\n", is.o.NodeName, is.o.ApproveKubeconfig, is.o.ApproveFlags, masters)
	}
	seen := map[string]bool{}
	for _, j := range jobs {
		if seen[j.signer] {
			continue
		}
		seen[j.signer] = true
		switch {
		case j.signer == certv1.KubeAPIServerClientSignerName:
			fmt.Fprintf(w, "[renew] %s CSRs are issued by kube-controller-manager once approved (its signer must be on: certctl signer enable)\n", j.signer)
		case signer.IsCertctlName(j.signer):
			fmt.Fprintf(w, "[renew] %s CSRs are issued by `certctl signer run` once approved\n", j.signer)
		}
	}
}

// wait says how long it waits for how many CSRs, watches every job's CSR
// at once, with one watch (watchCSRs: not polling), says on one line each
// change of a CSR (approved, issued, denied, failed, deleted), prints what is still awaited every
// ProgressInterval, and which signer has not issued a CSR approved
// SignerHintAfter ago. It keeps each certificate as soon as it is issued,
// and returns once every CSR is issued or will never be (denied, failed,
// deleted, a certificate of another CA): an *IncompleteError then names
// those not issued. At the timeout it gets each CSR that is left once
// more, uses those issued, and returns an *IncompleteError naming the
// others. An interruption, or an API server that keeps refusing the
// watch (see watchGuard), is an error and nothing is kept.
func (is *Issuer) wait(ctx context.Context, jobs []*job) error {
	byName := map[string]*job{}
	for _, j := range jobs {
		if !j.phase.done() {
			byName[j.name] = j
		}
	}
	if len(byName) == 0 {
		return is.incomplete(jobs, "")
	}
	fmt.Fprintf(is.o.Out, "[renew] Waiting up to %v for %d CSR(s) to be approved and issued; if stopped, the same command picks them up again\n", is.o.Timeout, len(byName))
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	guard := newWatchGuard(is.o.Clock, is.o.ForbiddenGrace, stop)
	events := watchCSRs(wctx, is.o.Client, guard, byName)
	start := is.o.Clock.Now()
	tick := is.o.Clock.NewTicker(is.o.ProgressInterval)
	defer tick.Stop()
	var hint clock.Timer
	defer func() {
		if hint != nil {
			hint.Stop()
		}
	}()
	// armHint prints the hints due and sets hint for the next one.
	armHint := func() {
		if hint != nil {
			hint.Stop()
			hint = nil
		}
		if next := is.hintDue(jobs); !next.IsZero() {
			hint = is.o.Clock.NewTimer(next.Sub(is.o.Clock.Now()))
		}
	}
	for left := len(byName); left > 0; {
		var hintC <-chan time.Time
		if hint != nil {
			hintC = hint.C()
		}
		select {
		case e := <-events:
			j := byName[e.csr.Name]
			was := j.phase
			is.observe(j, e.csr, e.gone)
			if j.phase == phaseIssued && was != phaseIssued {
				fmt.Fprintf(is.o.Out, "[renew] CSR %s for %s issued (after %v)\n", j.name, j.req.Name, is.o.Clock.Since(start).Round(time.Millisecond))
			}
			if j.phase.done() && !was.done() {
				left--
			}
			if j.phase != was {
				armHint()
			}
		case <-tick.C():
			is.printProgress(jobs, start)
			if d, err := guard.unanswered(); err != nil && statusOf(err) >= http.StatusInternalServerError {
				fmt.Fprintf(is.o.Out, "[renew] %s has answered only errors for %v (%v): the states above are as last seen; waiting for it to recover\n", is.apiServer(true), d.Round(time.Second), err)
			} else if err != nil {
				fmt.Fprintf(is.o.Out, "[renew] %s has not answered for %v (%v): the states above are as last seen; waiting for it to come back\n", is.apiServer(true), d.Round(time.Second), err)
			}
		case <-hintC:
			armHint()
		case <-wctx.Done():
			switch {
			case errors.Is(context.Cause(ctx), errTimedOut):
				return is.timedOut(jobs, guard)
			case ctx.Err() != nil:
				return is.stoppedError(jobs)
			}
			return is.forbiddenError(guard.forbidden(), jobs)
		}
	}
	return is.incomplete(jobs, "")
}

// createError says why a CSR could not be created, and what to do.
func (is *Issuer) createError(ctx context.Context, j *job, err error) error {
	what := fmt.Sprintf("create CSR %s for %s (signer %s)", j.name, j.req.Name, j.signer)
	switch {
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled):
		// Stopped (a signal): client-go's RequestCertificateWithContext
		// formats its error with %v, which drops context.Canceled from the
		// chain, and main would not know that nothing was changed.
		return fmt.Errorf("%s: %w (%v)", what, context.Canceled, err)
	case errors.Is(context.Cause(ctx), errTimedOut):
		// --timeout bounds the creation too: the API server may well be
		// up, only slower than the time given.
		return fmt.Errorf("%s: timed out after %v (--timeout) before %s answered (%w): run again with a longer --timeout; nothing was changed", what, is.o.Timeout, is.apiServer(false), err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: %w: the kubeconfig's user needs create, get, list and watch on certificatesigningrequests (see docs/renew.md); nothing was changed", what, err)
	case apierrors.IsInvalid(err):
		return fmt.Errorf("%s: the API server refused it: %w; nothing was changed", what, err)
	case strings.Contains(err.Error(), "not compatible"):
		// RequestCertificateWithContext found a CSR of this name made
		// for another subject or signer name (an earlier run with other
		// settings).
		return fmt.Errorf("%s: a CSR of that name exists for another request (%w): run again with --new-request=%s for a new key and CSR; nothing was changed", what, err, j.req.Name)
	}
	// An answer (an HTTP status) says the API server is up and reached:
	// asking whether it is would send the operator the wrong way.
	switch code := statusOf(err); {
	case code >= http.StatusInternalServerError:
		return fmt.Errorf("%s: %w: %s, then run the same command again; nothing was changed", what, err, serverError(is.apiServer(false), code))
	case code != 0:
		return fmt.Errorf("%s: %s answered %d %s: %w; nothing was changed", what, is.apiServer(false), code, http.StatusText(code), err)
	}
	return fmt.Errorf("%s: %w: is %s up and reachable? Nothing was changed", what, err, is.apiServer(false))
}

// statusOf is the HTTP status the API server answered with, as err of
// the API client says it; 0 when it did not answer (a connection
// refused, a timeout).
func statusOf(err error) int {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return int(st.Status().Code)
	}
	return 0
}

// serverError says that who (the API server) answered with code, a 5xx:
// its own error, or etcd's behind it, which its log says.
func serverError(who string, code int) string {
	return fmt.Sprintf("%s answered %d %s, an error of its own (or of etcd behind it): check its log", who, code, http.StatusText(code))
}

// apiServer is "the API server at URL" (capitalized when title), or
// without the URL when it is not known.
func (is *Issuer) apiServer(title bool) string {
	where := "the API server"
	if title {
		where = "The API server"
	}
	if is.o.Server != "" {
		where += " at " + is.o.Server
	}
	return where
}
