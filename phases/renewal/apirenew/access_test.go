package apirenew

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/phases/renewal"
)

// answerAccess makes cs answer SelfSubjectAccessReviews with review, given
// the verb asked; a nil answer with err fails the review itself.
func answerAccess(cs *fake.Clientset, review func(verb string) (authzv1.SubjectAccessReviewStatus, error)) {
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authzv1.SelfSubjectAccessReview).DeepCopy()
		ra := r.Spec.ResourceAttributes
		if ra == nil || ra.Group != certv1.GroupName || ra.Resource != "certificatesigningrequests" || ra.Namespace != "" {
			return true, nil, apierrors.NewBadRequest("unexpected review")
		}
		st, err := review(ra.Verb)
		if err != nil {
			return true, nil, err
		}
		r.Status = st
		return true, r, nil
	})
}

// answerUser makes cs answer SelfSubjectReviews with user.
func answerUser(cs *fake.Clientset, user string) {
	cs.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authnv1.SelfSubjectReview{Status: authnv1.SelfSubjectReviewStatus{UserInfo: authnv1.UserInfo{Username: user}}}, nil
	})
}

func allowOnly(verbs ...string) func(string) (authzv1.SubjectAccessReviewStatus, error) {
	return func(v string) (authzv1.SubjectAccessReviewStatus, error) {
		for _, w := range verbs {
			if v == w {
				return authzv1.SubjectAccessReviewStatus{Allowed: true}, nil
			}
		}
		return authzv1.SubjectAccessReviewStatus{Reason: "no RBAC policy matched"}, nil
	}
}

// TestAccessDenied: a user the API server does not allow to list and
// watch CSRs fails at once, naming the kubeconfig, the user, the missing
// verbs and what to grant, before a key is written or a CSR created.
func TestAccessDenied(t *testing.T) {
	ca := newTestCA(t)
	for _, tc := range []struct {
		name     string
		user     string // SelfSubjectReview's answer; "" fails it
		optUser  string
		allowed  []string
		want     []string
		dontWant []string
	}{
		{"create and get only, user from the API server", "alice", "", []string{"create", "get"},
			[]string{"kubeconfig /etc/kubernetes/node.conf (user \"alice\") may not list, watch certificatesigningrequests", "needs create, get, list and watch",
				"kubectl create clusterrole certctl:renew --verb=create,get,list,watch --resource=certificatesigningrequests.certificates.k8s.io", "--user=alice", "nothing was changed"}, nil},
		{"nothing, user from the client certificate", "", "kubernetes-admin", nil,
			[]string{`(user "kubernetes-admin") may not create, get, list, watch`, "--user=kubernetes-admin"}, nil},
		{"a service account", "system:serviceaccount:kube-system:renewer", "", []string{"create", "get", "list"},
			[]string{"may not watch certificatesigningrequests", "--serviceaccount=kube-system:renewer"}, []string{"--user="}},
		{"user unknown", "", "", []string{"create", "get", "watch"},
			[]string{"kubeconfig /etc/kubernetes/node.conf may not list certificatesigningrequests", "--user=USER"}, []string{"(user"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, dir := fakeClient(), t.TempDir()
			answerAccess(cs, allowOnly(tc.allowed...))
			if tc.user != "" {
				answerUser(cs, tc.user)
			}
			is, out := newIssuer(t, cs, dir, func(o *Options) { o.Credentials = "kubeconfig /etc/kubernetes/node.conf"; o.User = tc.optUser })
			err := is.Obtain(context.Background(), []renewal.Request{ca.request(t, "admin.conf", adminProfile)})
			if err == nil || !contains(err.Error(), tc.want...) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Obtain: %v; want one line with %q", err, tc.want)
			}
			for _, w := range tc.dontWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q contains %q", err, w)
				}
			}
			if n := csrCount(t, cs); n != 0 {
				t.Errorf("%d CSRs created", n)
			}
			if _, err := os.Stat(is.pending.dir); !os.IsNotExist(err) {
				t.Errorf("pending folder made: %v", err)
			}
			if out.String() != "" {
				t.Errorf("output before the error:\n%s", out)
			}
		})
	}
}

// TestAccessUnknownGoesOn: a SelfSubjectAccessReview that is allowed, is
// itself forbidden, is not served, or comes with an evaluation error does
// not stop the renewal.
func TestAccessUnknownGoesOn(t *testing.T) {
	ca := newTestCA(t)
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}, "", nil)
	for name, review := range map[string]func(string) (authzv1.SubjectAccessReviewStatus, error){
		"allowed": allowOnly(accessVerbs...),
		"review forbidden": func(string) (authzv1.SubjectAccessReviewStatus, error) {
			return authzv1.SubjectAccessReviewStatus{}, forbidden
		},
		"not served": func(string) (authzv1.SubjectAccessReviewStatus, error) {
			return authzv1.SubjectAccessReviewStatus{}, apierrors.NewNotFound(schema.GroupResource{Resource: "selfsubjectaccessreviews"}, "")
		},
		"evaluation error": func(string) (authzv1.SubjectAccessReviewStatus, error) {
			return authzv1.SubjectAccessReviewStatus{EvaluationError: `clusterrole.rbac.authorization.k8s.io "gone" not found`}, nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			cs, dir := fakeClient(), t.TempDir()
			answerAccess(cs, review)
			is, out := newIssuer(t, cs, dir, nil)
			done := whenCreated(t, cs, 1, func(n string) { decide(t, cs, n, certv1.CertificateApproved, ca) })
			if err := is.Obtain(context.Background(), []renewal.Request{ca.request(t, "admin.conf", adminProfile)}); err != nil {
				t.Fatalf("Obtain: %v\n%s", err, out)
			}
			done()
		})
	}
}

func TestGrantCommand(t *testing.T) {
	for user, want := range map[string]string{
		"":                                  "--user=USER",
		"kubernetes-admin":                  "--user=kubernetes-admin",
		"system:serviceaccount:ops:renewer": "--serviceaccount=ops:renewer",
	} {
		if got := grantCommand(user); !strings.HasSuffix(got, "--clusterrole=certctl:renew "+want) {
			t.Errorf("grantCommand(%q) = %q, want it to end with %q", user, got, want)
		}
	}
}

// TestAccessCheckOutlastsTimeout: when --timeout runs out while the API
// server has not answered the access reviews, the error says so, naming
// the API server; it blamed the key generation that came next ("timed
// out ... before the key was made"), which took no time.
func TestAccessCheckOutlastsTimeout(t *testing.T) {
	ca := newTestCA(t)
	// net/http returns the context's cause (--timeout's); an error made
	// before the request was sent, its Err.
	for name, cause := range map[string]error{"cause": errTimedOut, "deadline": context.DeadlineExceeded} {
		t.Run(name, func(t *testing.T) {
			cs, dir := fakeClient(), t.TempDir()
			answerAccess(cs, func(string) (authzv1.SubjectAccessReviewStatus, error) {
				// Well past the --timeout below: its timer, run late on a loaded
				// machine, had not fired after 300ms once.
				time.Sleep(time.Second)
				return authzv1.SubjectAccessReviewStatus{}, &url.Error{Op: "Post", URL: "https://192.0.2.10:6443/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", Err: cause}
			})
			is, out := newIssuer(t, cs, dir, func(o *Options) {
				o.Timeout, o.Server, o.Credentials = 100*time.Millisecond, "https://192.0.2.10:6443", "kubeconfig /etc/kubernetes/admin.conf"
			})
			err := is.Obtain(context.Background(), []renewal.Request{ca.request(t, "admin.conf", adminProfile)})
			want := []string{"check that kubeconfig /etc/kubernetes/admin.conf may create certificatesigningrequests: timed out after 100ms (--timeout) before the API server at https://192.0.2.10:6443 answered",
				"run again with a longer --timeout; nothing was changed"}
			if err == nil || !contains(err.Error(), want...) || strings.Contains(err.Error(), "key") {
				t.Fatalf("Obtain: %v; want %q", err, want)
			}
			if n := csrCount(t, cs); n != 0 {
				t.Errorf("%d CSRs created", n)
			}
			if _, err := os.Stat(is.pending.dir); !os.IsNotExist(err) {
				t.Errorf("pending folder made: %v", err)
			}
			if out.String() != "" {
				t.Errorf("output before the error:\n%s", out)
			}
		})
	}
}

// TestAccessCheckServerCertExpired: an API server whose certificate has
// expired (with the node's others: the renewal's usual case) fails the run
// at once, saying to renew from the CA on disk; it went on, and client-go's
// CSR creation, which drops the cause, asked whether the API server is up.
func TestAccessCheckServerCertExpired(t *testing.T) {
	ca := newTestCA(t)
	cs, dir := fakeClient(), t.TempDir()
	expired := &url.Error{Op: "Post", URL: "https://192.0.2.10:6443/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
		Err: &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired, Detail: "current time is after 2026-01-01"}}}
	answerAccess(cs, func(string) (authzv1.SubjectAccessReviewStatus, error) {
		return authzv1.SubjectAccessReviewStatus{}, expired
	})
	is, out := newIssuer(t, cs, dir, func(o *Options) { o.Credentials = "kubeconfig /etc/kubernetes/admin.conf" })
	err := is.Obtain(context.Background(), []renewal.Request{ca.request(t, "admin.conf", adminProfile)})
	want := []string{"check that kubeconfig /etc/kubernetes/admin.conf may create certificatesigningrequests", "certificate has expired",
		"the API server's certificate is not valid now", "renew them from the CA on disk", "; nothing was changed"}
	if err == nil || !contains(err.Error(), want...) || strings.Contains(err.Error(), "up and reachable") {
		t.Fatalf("Obtain: %v; want %q", err, want)
	}
	if n := csrCount(t, cs); n != 0 {
		t.Errorf("%d CSRs created", n)
	}
	if _, err := os.Stat(is.pending.dir); !os.IsNotExist(err) {
		t.Errorf("pending folder made: %v", err)
	}
	if out.String() != "" {
		t.Errorf("output before the error:\n%s", out)
	}
}
