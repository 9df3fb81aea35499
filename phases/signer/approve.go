package signer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// ApproveOptions configure Approve.
type ApproveOptions struct {
	// Policy checks the request's profile and requester. Required unless Force.
	Policy *Policy
	// Force skips the profile and requester checks; the proof of possession
	// is still checked, and so is a subject that grants power over the
	// cluster (policy.Rules.Privilege: O=system:masters, O=kubeadm:cluster-admins)
	// with Policy's rules, or Rules when Policy is nil. The approval's
	// message says so.
	Force bool
	// Rules are the rules Force still applies when Policy is nil
	// (--allow-system-masters, --requester-group, --requester-user), with
	// DefaultRequesterGroups when they name no requester, as
	// PolicyOptions.Rules. Without Force, Policy's rules say.
	Rules policy.Rules
	// Reason of the Approved condition; "CertctlApproved" when empty.
	Reason string
	// Message of the Approved condition; one naming the profile when empty.
	Message string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// DryRun sends the approval as a server-side dry run: the API server
	// checks and authorizes it (may the caller approve for this signer?)
	// and stores nothing.
	DryRun bool
}

// dryRun is the dryRun of a request: all when set.
func dryRun(set bool) []string {
	if set {
		return []string{metav1.DryRunAll}
	}
	return nil
}

// ApproveResult says what Approve did.
type ApproveResult struct {
	// Profile is the control-plane certificate the request fits (zero with Force).
	Profile pki.Profile
	// AlreadyApproved is set when the CSR was approved before: nothing was written.
	AlreadyApproved bool
	// CSR is the request as the API server returned it.
	CSR *certv1.CertificateSigningRequest
}

// Approve approves the CSR called name through its /approval subresource,
// after the two checks the Kubernetes documentation asks of an approver
// (https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/#approval-rejection):
// the request's self-signature proves that the requester holds the private
// key, and the request fits the profile of the control-plane certificate
// it claims (subject, SANs, usages for its signer name) and comes from a
// requester allowed to ask for it (Policy.Check, Policy.Rules().Requester).
// A request that fails a check gets no condition: deny it with Deny.
// Conflicts are retried.
func Approve(ctx context.Context, client kubernetes.Interface, name string, o ApproveOptions) (*ApproveResult, error) {
	if o.Policy == nil && !o.Force {
		return nil, fmt.Errorf("signer: approve CSR %s: no policy to check it against", name)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Reason = cmp.Or(o.Reason, "CertctlApproved")
	res := &ApproveResult{}
	csrs := client.CertificatesV1().CertificateSigningRequests()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		csr, err := csrs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get CSR %s: %w", name, kubeclient.Unanswered(err, ""))
		}
		switch {
		case IsDenied(csr):
			return fmt.Errorf("CSR %s is denied, and conditions cannot be removed: create a new CSR", name)
		case IsFailed(csr):
			return fmt.Errorf("CSR %s has failed (%s), and conditions cannot be removed: create a new CSR", name, conditionMessage(csr, certv1.CertificateFailed))
		case IsApproved(csr):
			res.AlreadyApproved, res.CSR = true, csr
			return nil
		}
		req, err := ParseRequest(csr)
		if err != nil {
			return fmt.Errorf("%w: deny it", err)
		}
		var msg string
		if o.Force {
			// kube-controller-manager signs what is approved for its
			// names: a certificate that makes its holder a cluster admin
			// is approved only as the policy allows, whatever else
			// --force skips.
			rules := withDefaults(o.Rules)
			if o.Policy != nil {
				rules = o.Policy.Rules()
			}
			if err := rules.Privilege(requestOf(csr, req, csr.Spec.Usages)); err != nil {
				return fmt.Errorf("CSR %s: %w; --force does not skip that check: deny it (certctl deny %s --reason ...)", name, err, name)
			}
			msg = fmt.Sprintf("approved by certctl with --force: profile and requester checks skipped; proof of possession checked (signer %s)", csr.Spec.SignerName)
		} else {
			prof, err := o.Policy.Judge(requestOf(csr, req, csr.Spec.Usages))
			if err != nil {
				var v *policy.Violation
				what := " does not fit a control-plane certificate"
				if errors.As(err, &v) && v.Reason == policy.ReasonRequesterNotAllowed {
					what = "" // it fits; who asked may not
				}
				return fmt.Errorf("CSR %s%s: %w; deny it (certctl deny %s --reason ...) or, after checking it yourself, approve with --force", name, what, err, name)
			}
			res.Profile = prof
			msg = fmt.Sprintf("approved by certctl: fits the %s certificate of signer %s; requester %s may ask for it; proof of possession checked", prof.Name, csr.Spec.SignerName, oneLine(csr.Spec.Username))
		}
		csr.Status.Conditions = append(csr.Status.Conditions, condition(certv1.CertificateApproved, o.Reason, cmp.Or(o.Message, msg), o.Now()))
		updated, err := csrs.UpdateApproval(ctx, name, csr, metav1.UpdateOptions{DryRun: dryRun(o.DryRun)})
		if err != nil {
			return fmt.Errorf("update approval of CSR %s: %w", name, err)
		}
		res.CSR = updated
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("approve: %w", err)
	}
	return res, nil
}

// Deny adds a Denied condition with reason and message to the CSR called
// name through its /approval subresource (a server-side dry run, storing
// nothing, with dry). A CSR denied before is left as it is (the result is
// true); an approved one cannot be denied.
func Deny(ctx context.Context, client kubernetes.Interface, name, reason, message string, now time.Time, dry bool) (alreadyDenied bool, err error) {
	if reason == "" {
		return false, fmt.Errorf("deny CSR %s: a reason is required", name)
	}
	csrs := client.CertificatesV1().CertificateSigningRequests()
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		csr, err := csrs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get CSR %s: %w", name, kubeclient.Unanswered(err, ""))
		}
		switch {
		case IsDenied(csr):
			alreadyDenied = true
			return nil
		case IsApproved(csr):
			return fmt.Errorf("CSR %s is already approved, and conditions cannot be removed: delete the CSR instead (kubectl delete csr %s)", name, name)
		}
		csr.Status.Conditions = append(csr.Status.Conditions, condition(certv1.CertificateDenied, reason, message, now))
		if _, err := csrs.UpdateApproval(ctx, name, csr, metav1.UpdateOptions{DryRun: dryRun(dry)}); err != nil {
			return fmt.Errorf("update approval of CSR %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("deny: %w", err)
	}
	return alreadyDenied, nil
}

func conditionMessage(csr *certv1.CertificateSigningRequest, t certv1.RequestConditionType) string {
	for _, c := range csr.Status.Conditions {
		if c.Type == t {
			return c.Reason + ": " + c.Message
		}
	}
	return ""
}

// Unclear is a pending CSR that a Batch's Of could not attribute: Why
// says why.
type Unclear struct {
	Name string
	Why  error
}

// pendingOf lists, sorted by name, the CSRs that are neither approved,
// denied nor failed and that of says are one node's (`certctl approve
// --all-from-node`: apirenew.FromNode), with the certificate each is for
// (by name), and those pending that of cannot tell, with why.
func pendingOf(ctx context.Context, client kubernetes.Interface, of func(*certv1.CertificateSigningRequest) (string, error)) ([]*certv1.CertificateSigningRequest, map[string]string, []Unclear, error) {
	list, err := client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list CSRs: %w", err)
	}
	var csrs []*certv1.CertificateSigningRequest
	certs := map[string]string{}
	var unclear []Unclear
	for i := range list.Items {
		csr := &list.Items[i]
		if State(csr) != "Pending" {
			continue
		}
		switch cert, why := of(csr); {
		case why != nil:
			unclear = append(unclear, Unclear{csr.Name, why})
		case cert != "":
			csrs = append(csrs, csr)
			certs[csr.Name] = cert
		}
	}
	sort.Slice(csrs, func(i, j int) bool { return csrs[i].Name < csrs[j].Name })
	sort.Slice(unclear, func(i, j int) bool { return unclear[i].Name < unclear[j].Name })
	return csrs, certs, unclear, nil
}
