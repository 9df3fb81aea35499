package apirenew

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/certificate/csr"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/renewal"
	"github.com/certctl/certctl/signer"
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
		if j.approved {
			how += ", approved already"
		} else {
			names = append(names, j.name)
		}
		fmt.Fprintf(w, "[renew] CSR %s for %s: signer %s (%s)\n", j.name, j.req.Name, j.signer, how)
	}
	if len(names) > 0 {
		fmt.Fprintf(w, "[renew] Approve with:\n  kubectl certificate approve %s\n", strings.Join(names, " "))
		for _, n := range names {
			fmt.Fprintf(w, "  certctl approve %s%s\n", n, is.o.ApproveFlags)
		}
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

type waitResult struct {
	j   *job
	pem []byte
	err error
}

// wait watches every job's CSR at once (csr.WaitForCertificate: a watch on
// the CSR, not polling), prints a progress line every ProgressInterval,
// and keeps each certificate as soon as it is issued. It returns at the
// first denied or failed CSR.
func (is *Issuer) wait(ctx context.Context, jobs []*job) error {
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	results := make(chan waitResult, len(jobs))
	for _, j := range jobs {
		go func() {
			pem, err := csr.WaitForCertificate(wctx, is.o.Client, j.name, j.uid)
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
				if ctx.Err() != nil {
					return is.stoppedError(ctx, jobs, left)
				}
				return is.waitError(r.j, r.err)
			}
			certs, err := pki.ParseCerts(r.pem)
			if err != nil {
				return fmt.Errorf("CSR %s for %s: the issued certificate: %w; nothing was changed: run again with --new-request", r.j.name, r.j.req.Name, err)
			}
			// Only the leaf is installed: renewal checks that the CA on
			// disk signed it directly.
			is.got[r.j.req.Name] = renewal.Issued{Key: r.j.key, Cert: certs[0]}
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
// interruption, with their state and what to do.
func (is *Issuer) stoppedError(ctx context.Context, jobs []*job, left map[*job]bool) error {
	gctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var states []string
	var hints []string
	for _, j := range jobs {
		if !left[j] {
			continue
		}
		state := "state unknown"
		got, err := is.o.Client.CertificatesV1().CertificateSigningRequests().Get(gctx, j.name, metav1.GetOptions{})
		switch {
		case err != nil:
			state = "state unknown: " + err.Error()
		case signer.IsApproved(got):
			state = "approved, not issued yet"
			if signer.IsCertctlName(j.signer) {
				hints = append(hints, fmt.Sprintf("is `certctl signer run` running for %s?", j.signer))
			} else if j.signer == certv1.KubeAPIServerClientSignerName {
				hints = append(hints, "is kube-controller-manager's signer on (certctl signer enable)?")
			}
		default:
			state = strings.ToLower(signer.State(got))
		}
		states = append(states, fmt.Sprintf("%s for %s (signer %s): %s", j.name, j.req.Name, j.signer, state))
	}
	verb := fmt.Sprintf("timed out after %v", is.o.Timeout)
	if !errors.Is(context.Cause(ctx), errTimedOut) {
		verb = "interrupted"
	}
	msg := fmt.Sprintf("%s waiting for CSR(s) %s; nothing was changed. Approve them (kubectl certificate approve NAME, or certctl approve NAME) and run the same command again: it picks up the same CSRs and keys", verb, strings.Join(states, "; "))
	if len(hints) > 0 {
		msg += "; " + strings.Join(dedupe(hints), "; ")
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
