package signer

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
)

// TestCSRCompletions: approve and deny complete the pending CSRs, sign the
// approved ones not yet issued, by prefix, without those already given;
// a client that cannot be made gives none.
func TestCSRCompletions(t *testing.T) {
	csr := func(name string, issued bool, conds ...certv1.RequestConditionType) *certv1.CertificateSigningRequest {
		c := &certv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: name}}
		for _, typ := range conds {
			c.Status.Conditions = append(c.Status.Conditions, certv1.CertificateSigningRequestCondition{Type: typ, Status: corev1.ConditionTrue})
		}
		if issued {
			c.Status.Certificate = []byte("x")
		}
		return c
	}
	client := fake.NewClientset(
		csr("csr-b", false), csr("csr-a", false), csr("node-csr-1", false),
		csr("csr-approved", false, certv1.CertificateApproved),
		csr("csr-issued", true, certv1.CertificateApproved),
		csr("csr-denied", false, certv1.CertificateDenied),
		csr("csr-failed", false, certv1.CertificateApproved, certv1.CertificateFailed),
	)
	connect := func() (kubernetes.Interface, error) { return client, nil }
	for _, tc := range []struct {
		name, state, prefix string
		given               []string
		want                []string
	}{
		{"pending, sorted", "Pending", "", nil, []string{"csr-a", "csr-b", "node-csr-1"}},
		{"by prefix", "Pending", "csr-", nil, []string{"csr-a", "csr-b"}},
		{"not those given", "Pending", "", []string{"csr-a"}, []string{"csr-b", "node-csr-1"}},
		{"approved, to sign", "Approved", "", nil, []string{"csr-approved"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CSRCompletions(context.Background(), connect, tc.state, tc.given, tc.prefix); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if got := CSRCompletions(context.Background(), func() (kubernetes.Interface, error) { return nil, errors.New("no kubeconfig") }, "Pending", nil, ""); got != nil {
		t.Errorf("without a client: %q", got)
	}
}

// TestCSRCompletionsBounded: an API server that accepts the request and
// never answers costs the shell CompletionTimeout, not forever.
func TestCSRCompletionsBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got := CSRCompletions(context.Background(), func() (kubernetes.Interface, error) { return client, nil }, "Pending", nil, "")
	if d := time.Since(start); got != nil || d > CompletionTimeout+time.Second {
		t.Errorf("got %q after %v, want none within %v", got, d, CompletionTimeout)
	}
}
