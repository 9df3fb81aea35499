package apirenew

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/certificate/csr"

	"github.com/certctl/certctl/phases/renewal"
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
		// One certctl command for them all: it finds this node's pending
		// CSRs by name (IsCSRNameOf) and checks each.
		masters := ""
		for _, j := range jobs {
			if j.needsApproval && approveFlagsFor(j.req) != "" {
				masters = approveFlagsFor(j.req)
			}
		}
		fmt.Fprintf(w, "[renew] Approve with:\n  kubectl certificate approve %s\n", strings.Join(names, " "))
		fmt.Fprintf(w, "  certctl approve --all-from-node %s%s%s\n", is.o.NodeName, is.o.ApproveFlags, masters)
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
	fmt.Fprintf(w, "[renew] Waiting up to %v for %d CSR(s) to be approved and issued; if stopped, the same command picks them up again\n", is.o.Timeout, len(jobs))
}

// approveFlagsFor is what `certctl approve` needs besides ApproveFlags for
// req's CSR: --allow-system-masters for O=system:masters
// (super-admin.conf), which it refuses otherwise.
func approveFlagsFor(req renewal.Request) string {
	if slices.Contains(req.Profile.Organization, pki.MastersGroup) {
		return " --allow-system-masters"
	}
	return ""
}

type waitResult struct {
	j   *job
	pem []byte
	err error
}

// wait watches every job's CSR at once (csr.WaitForCertificate: a watch on
// the CSR, not polling), prints a progress line every ProgressInterval,
// and keeps each certificate as soon as it is issued. It returns at the
// first denied or failed CSR, or certificate of another CA; when the API
// server keeps refusing the watch (see watchGuard); and at the timeout,
// when it gets each CSR that is left once more, to use those issued.
func (is *Issuer) wait(ctx context.Context, jobs []*job) error {
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	guard := newWatchGuard(is.o.Clock, is.o.ForbiddenGrace, stop)
	client := guardedClient{is.o.Client, guard}
	results := make(chan waitResult, len(jobs))
	for _, j := range jobs {
		go func() {
			pem, err := csr.WaitForCertificate(wctx, client, j.name, j.uid)
			results <- waitResult{j, pem, err}
		}()
	}
	start := is.o.Clock.Now()
	tick := is.o.Clock.NewTicker(is.o.ProgressInterval)
	defer tick.Stop()
	left := map[*job]bool{}
	for _, j := range jobs {
		left[j] = true
	}
	for len(left) > 0 {
		select {
		case r := <-results:
			if r.err != nil {
				switch {
				case ctx.Err() != nil:
					return is.stoppedError(ctx, jobs, left)
				case guard.forbidden() != nil:
					return is.forbiddenError(guard.forbidden(), jobs, left)
				}
				return is.waitError(r.j, r.err)
			}
			if err := is.accept(r.j, r.pem); err != nil {
				return err
			}
			delete(left, r.j)
			fmt.Fprintf(is.o.Out, "[renew] CSR %s for %s issued (after %v)\n", r.j.name, r.j.req.Name, is.o.Clock.Since(start).Round(time.Millisecond))
		case <-tick.C():
			var names []string
			for _, j := range jobs {
				if left[j] {
					names = append(names, j.name)
				}
			}
			fmt.Fprintf(is.o.Out, "[renew] Waited %v; %d CSR(s) not issued yet: %s\n", is.o.Clock.Since(start).Round(time.Second), len(names), strings.Join(names, ", "))
		}
	}
	return nil
}

// accept keeps the certificate issued for j, after checking that it parses
// and that the CA of the certificate it renews signed it: a certificate of
// another CA comes from a signer name that is not this CA's.
func (is *Issuer) accept(j *job, certPEM []byte) error {
	certs, err := pki.ParseCerts(certPEM)
	if err != nil {
		return fmt.Errorf("CSR %s for %s: the issued certificate: %w; nothing was changed: run again with --new-request", j.name, j.req.Name, err)
	}
	// Only the leaf is installed: renewal checks that the CA on disk
	// signed it directly.
	if j.req.CA != nil && certs[0].CheckSignatureFrom(j.req.CA) != nil {
		return fmt.Errorf("CSR %s for %s: the issued certificate is signed by %q, not by the CA %q of the certificate it renews; nothing was changed: check that signer %s signs with that CA (--signer-name, or renewal.signerNames in --config) and run again with --new-request",
			j.name, j.req.Name, certs[0].Issuer.CommonName, j.req.CA.Subject.CommonName, j.signer)
	}
	is.got[j.req.Name] = renewal.Issued{Key: j.key, Cert: certs[0]}
	is.csrs[j.req.Name] = j.name
	return nil
}

// csrState is what a CSR's conditions and status say, for messages:
// "pending", "approved, not issued yet", "issued", "denied (reason ...)".
func csrState(c *certv1.CertificateSigningRequest) string {
	for _, cond := range c.Status.Conditions {
		switch cond.Type {
		case certv1.CertificateDenied:
			return fmt.Sprintf("denied (reason %q: %s)", cond.Reason, cond.Message)
		case certv1.CertificateFailed:
			return fmt.Sprintf("failed (reason %q: %s)", cond.Reason, cond.Message)
		}
	}
	switch {
	case len(c.Status.Certificate) > 0:
		return "issued"
	case signer.IsApproved(c):
		return "approved, not issued yet"
	}
	return "pending"
}

// issued reports whether c, the CSR of j, holds a certificate to install.
func issued(j *job, c *certv1.CertificateSigningRequest) bool {
	return c.UID == j.uid && signer.IsApproved(c) && !signer.IsFailed(c) && len(c.Status.Certificate) > 0
}

// collect gets each CSR still left once more and, with use, keeps the
// certificates issued meanwhile (deleting their job from left, and
// returning their names). It returns the state of each job still left,
// for the error.
func (is *Issuer) collect(jobs []*job, left map[*job]bool, use bool) (map[*job]string, []string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	states := map[*job]string{}
	var used []string
	for _, j := range jobs {
		if !left[j] {
			continue
		}
		got, err := is.o.Client.CertificatesV1().CertificateSigningRequests().Get(ctx, j.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err) || err == nil && got.UID != j.uid:
			states[j] = "deleted: run the same command again to create it again"
		case err != nil:
			states[j] = "state unknown: " + err.Error()
		case use && issued(j, got):
			if err := is.accept(j, got.Status.Certificate); err != nil {
				return nil, nil, err
			}
			delete(left, j)
			used = append(used, j.name+" for "+j.req.Name)
		default:
			states[j] = csrState(got)
		}
	}
	return states, used, nil
}

// forbiddenError ends a wait the API server refused to list or watch
// (werr): the certificates issued by then are used, with a warning, and
// the error says what to grant when some are not.
func (is *Issuer) forbiddenError(werr error, jobs []*job, left map[*job]bool) error {
	states, _, err := is.collect(jobs, left, true)
	if err != nil {
		return err
	}
	uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	user := is.userName(uctx)
	if len(left) == 0 {
		fmt.Fprintf(is.o.Out, "[warning] Every CSR is issued, but %s may not list or watch certificatesigningrequests (%v): certctl found the certificates only once it stopped waiting; grant list and watch on them (%s)\n", is.who(user), werr, grantCommand(user))
		return nil
	}
	return fmt.Errorf("stopped waiting for CSR(s) %s: %s may not list or watch certificatesigningrequests (%v), so certctl cannot see them issued; nothing was changed. Grant list and watch on them (%s), or approve the CSRs and run the same command again once they are issued: it picks up the same CSRs and keys",
		describeLeft(jobs, left, states), is.who(user), werr, grantCommand(user))
}

// describeLeft lists the jobs still left with their state.
func describeLeft(jobs []*job, left map[*job]bool, states map[*job]string) string {
	var out []string
	for _, j := range jobs {
		if left[j] {
			out = append(out, fmt.Sprintf("%s for %s (signer %s): %s", j.name, j.req.Name, j.signer, states[j]))
		}
	}
	return strings.Join(out, "; ")
}

// createError says why a CSR could not be created, and what to do.
func (is *Issuer) createError(j *job, err error) error {
	what := fmt.Sprintf("create CSR %s for %s (signer %s)", j.name, j.req.Name, j.signer)
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: %w: the kubeconfig's user needs create, get, list and watch on certificatesigningrequests (see docs/renew.md); nothing was changed", what, err)
	case apierrors.IsInvalid(err):
		return fmt.Errorf("%s: the API server refused it: %w; nothing was changed", what, err)
	case strings.Contains(err.Error(), "not compatible"):
		// RequestCertificateWithContext found a CSR of this name made
		// for another subject or signer name (an earlier run with other
		// settings).
		return fmt.Errorf("%s: a CSR of that name exists for another request (%w): run again with --new-request for a new key and CSR; nothing was changed", what, err)
	}
	where := "the API server"
	if is.o.Server != "" {
		where += " at " + is.o.Server
	}
	return fmt.Errorf("%s: %w: is %s up and reachable? Nothing was changed", what, err, where)
}

// waitError turns WaitForCertificate's error into one that says what the
// CSR's condition says, and what to do.
func (is *Issuer) waitError(j *job, werr error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := is.o.Client.CertificatesV1().CertificateSigningRequests().Get(ctx, j.name, metav1.GetOptions{})
	if err == nil && got.UID == j.uid {
		for _, c := range got.Status.Conditions {
			switch c.Type {
			case certv1.CertificateDenied:
				return fmt.Errorf("CSR %s for %s was denied (reason %q: %s); nothing was changed. A denied CSR cannot be approved again: once the cause is fixed, run the command again with --new-request for a new key and CSR", j.name, j.req.Name, c.Reason, c.Message)
			case certv1.CertificateFailed:
				return fmt.Errorf("CSR %s for %s failed: the signer %s refused it (reason %q: %s); nothing was changed. Once the cause is fixed, run the command again with --new-request for a new key and CSR", j.name, j.req.Name, j.signer, c.Reason, c.Message)
			}
		}
	}
	return fmt.Errorf("wait for CSR %s for %s: %w; nothing was changed: run the same command again", j.name, j.req.Name, werr)
}

// stoppedError names the CSRs still waiting after a timeout or an
// interruption, with their state and what to do. At the timeout it gets
// each once more and uses the certificates issued: a watch that missed
// them (one the API server refused, or that broke) does not fail a run
// whose certificates are there.
func (is *Issuer) stoppedError(ctx context.Context, jobs []*job, left map[*job]bool) error {
	timedOut := errors.Is(context.Cause(ctx), errTimedOut)
	states, used, err := is.collect(jobs, left, timedOut)
	if err != nil {
		return err
	}
	unseen := ""
	if len(used) > 0 {
		unseen = fmt.Sprintf("CSR(s) %s issued, but certctl could not watch them: grant %s list and watch on certificatesigningrequests (%s)", strings.Join(used, ", "), is.who(is.o.User), grantCommand(is.o.User))
	}
	if len(left) == 0 {
		fmt.Fprintf(is.o.Out, "[warning] %s; certctl found them only at the timeout, when it got each CSR once more\n", unseen)
		return nil
	}
	var hints []string
	for _, j := range jobs {
		switch {
		case !left[j]:
		case states[j] == "approved, not issued yet" && signer.IsCertctlName(j.signer):
			hints = append(hints, fmt.Sprintf("is `certctl signer run` running for %s?", j.signer))
		case states[j] == "approved, not issued yet" && j.signer == certv1.KubeAPIServerClientSignerName:
			hints = append(hints, "is kube-controller-manager's signer on (certctl signer enable)?")
		case states[j] == "issued" && !timedOut:
			states[j] = "issued: the same command run again installs it"
		}
	}
	verb := "interrupted"
	if timedOut {
		verb = fmt.Sprintf("timed out after %v", is.o.Timeout)
	}
	msg := fmt.Sprintf("%s waiting for CSR(s) %s; nothing was changed. Approve them (kubectl certificate approve NAME, or certctl approve NAME) and run the same command again: it picks up the same CSRs and keys", verb, describeLeft(jobs, left, states))
	if len(hints) > 0 {
		msg += "; " + strings.Join(dedupe(hints), "; ")
	}
	if unseen != "" {
		msg += "; " + unseen
	}
	return errors.New(msg)
}

func dedupe(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
