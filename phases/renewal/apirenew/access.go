package apirenew

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/kubeclient"
)

// accessVerbs are what a renewal through the API does with
// certificatesigningrequests: create them, get one that exists (client-go's
// RequestCertificateWithContext, and the state of a resumed CSR), list and
// watch them (watchCSRs). docs/renew.md's ClusterRole
// certctl:renew grants exactly these.
var accessVerbs = []string{"create", "get", "list", "watch"}

// checkAccess asks the API server, with one SelfSubjectAccessReview per
// verb of accessVerbs, whether the client may do what the renewal needs,
// so that a kubeconfig that may not (a user allowed to create and get CSRs
// but not to watch them) fails before a key is written or a CSR created,
// instead of waiting Timeout for a watch it is refused. A review the API
// server answers with an error (SelfSubjectAccessReviews forbidden, not
// served, a 5xx) or with an authorizer's evaluation error lets the run go
// on: the wait reports a list or watch that is refused.
//
// The reviews are bounded as every other request of the run is: by
// --timeout, and by the client's own bounds on connecting and on the
// answer (kubeclient.Options.AnswerTimeout), not by one of their own.
// They used to have 30 s of their own, after which the run went on and
// made its keys, to wait for the CSR's creation as long again; and a
// slower answer, which the client would have waited for, went unchecked.
// When --timeout runs out before the API server answered them, that is
// the error (nothing is left to make keys or CSRs with), not the key
// generation that would come next. A review the API server did not
// answer at all (a connection refused, no answer within the client's
// bound) stops the run there, with the words of the CSR's creation
// (createError), which would fail the same way, only after the keys were
// made. An API server whose certificate does not verify (expired with
// the node's others) fails the run at once, saying what to do.
func (is *Issuer) checkAccess(ctx context.Context) error {
	var missing []string
	for _, verb := range accessVerbs {
		review := &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authzv1.ResourceAttributes{Group: certv1.GroupName, Resource: "certificatesigningrequests", Verb: verb},
		}}
		got, err := is.o.Client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil && errors.Is(context.Cause(ctx), errTimedOut) && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errTimedOut)) {
			return fmt.Errorf("check that %s may %s certificatesigningrequests: timed out after %v (--timeout) before %s answered (%w): run again with a longer --timeout; nothing was changed",
				cmp.Or(is.o.Credentials, "the kubeconfig's user"), verb, is.o.Timeout, is.apiServer(false), err)
		}
		if hint := kubeclient.TLSHint(err, cmp.Or(is.o.Credentials, "the kubeconfig")); hint != "" {
			// Every request would fail so, and client-go's CSR creation
			// loses the cause that says what to do.
			return fmt.Errorf("check that %s may %s certificatesigningrequests: %w: %s; nothing was changed",
				cmp.Or(is.o.Credentials, "the kubeconfig's user"), verb, err, hint)
		}
		var ne net.Error
		if err != nil && ctx.Err() == nil && statusOf(err) == 0 && errors.As(err, &ne) {
			return fmt.Errorf("check that %s may %s certificatesigningrequests: %w: is %s up and reachable? Nothing was changed",
				cmp.Or(is.o.Credentials, "the kubeconfig's user"), verb, err, is.apiServer(false))
		}
		if err != nil {
			return nil
		}
		switch {
		case got.Status.Allowed:
		case got.Status.EvaluationError != "" && !got.Status.Denied:
			// An authorizer could not decide (a binding to a missing
			// role, a webhook down): the answer may be wrong.
			return nil
		default:
			missing = append(missing, verb)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	user := is.userName(ctx)
	return fmt.Errorf("%s may not %s certificatesigningrequests (certificates.k8s.io): a renewal through the API needs %s on them; grant them, for example with the ClusterRole certctl:renew of docs/renew.md (%s), or pass --kubeconfig of a user who has them; nothing was changed",
		is.who(user), strings.Join(missing, ", "), "create, get, list and watch", grantCommand(user))
}

// userName is the user the API server sees: what a SelfSubjectReview says,
// else Options.User, else "".
func (is *Issuer) userName(ctx context.Context) string {
	got, err := is.o.Client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err == nil && got.Status.UserInfo.Username != "" {
		return got.Status.UserInfo.Username
	}
	return is.o.User
}

// who names the credentials for an error message: `kubeconfig
// /etc/kubernetes/admin.conf (user "kubernetes-admin")`.
func (is *Issuer) who(user string) string {
	s := cmp.Or(is.o.Credentials, "the kubeconfig's user")
	if user != "" {
		s += fmt.Sprintf(" (user %q)", user)
	}
	return s
}

// grantCommand is the kubectl commands that make and bind docs/renew.md's
// ClusterRole certctl:renew for user (a placeholder when unknown).
func grantCommand(user string) string {
	subject := "--user=USER"
	switch {
	case strings.HasPrefix(user, "system:serviceaccount:"):
		subject = "--serviceaccount=" + strings.TrimPrefix(user, "system:serviceaccount:")
	case user != "":
		subject = "--user=" + user
	}
	return "kubectl create clusterrole certctl:renew --verb=" + strings.Join(accessVerbs, ",") +
		" --resource=certificatesigningrequests.certificates.k8s.io; kubectl create clusterrolebinding certctl:renew --clusterrole=certctl:renew " + subject
}
