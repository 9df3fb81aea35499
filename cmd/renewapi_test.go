package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/refused"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// closedPort returns a local address nothing listens on: a connection to it
// is refused at once.
func closedPort(t *testing.T) string {
	t.Helper()
	return "https://" + refused.Addr(t)
}

// TestRenewUseAPIRefuses: wrong flags, an expired client certificate and
// an API server that is down fail with a clear error, leaving every file
// (and no pending key) as it was.
func TestRenewUseAPIRefuses(t *testing.T) {
	n, flags := renewNode(t)
	now := time.Now()
	down := closedPort(t)
	valid := n.APIKubeconfig(t, down, pki.NewValidity(now, time.Hour, time.Hour))
	expired := n.APIKubeconfig(t, down, pki.Validity{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	before := treetest.Snapshot(t, n.Dir)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"admin.conf", "--timeout", "1m"}, []string{"--timeout applies to renewal through the API: add --use-api"}},
		{[]string{"admin.conf", "--signer-name", "admin.conf=example.com/x"}, []string{"--signer-name applies to renewal through the API"}},
		{[]string{"admin.conf", "--context", "prod"}, []string{"--context applies to renewal through the API: add --use-api"}},
		{[]string{"admin.conf", "--use-api", "--kubeconfig", valid, "--context", "prod"}, []string{"kubeconfig " + valid + ` has no context "prod" (its contexts: kubernetes-admin@kubernetes)`}},
		{[]string{"admin.conf", "--use-api", "--reuse-key"}, []string{"--reuse-key cannot be used with --use-api"}},
		{[]string{"admin.conf", "--use-api", "--timeout", "0s"}, []string{"invalid --timeout"}},
		{[]string{"admin.conf", "--use-api", "--kubeconfig", valid, "--signer-name", "ca=example.com/x"}, []string{`"ca": not a certificate certctl renews`}},
		{[]string{"super-admin.conf", "--use-api", "--kubeconfig", valid, "--signer-name", "super-admin.conf=kubernetes.io/kube-apiserver-client"},
			[]string{"O=system:masters, which the API server refuses", "without --use-api"}},
		{[]string{"admin.conf", "--use-api", "--kubeconfig", valid, "--certificate-validity", "5m"}, []string{"certificateValidityPeriod (--certificate-validity) 5m0s is shorter than 1h0m0s"}},
		{[]string{"admin.conf", "--use-api", "--kubeconfig", expired}, []string{"the client certificate of kubeconfig " + expired, "expired on", "certctl renew admin.conf", "super-admin.conf"}},
		{[]string{"admin.conf", "apiserver", "--use-api", "--kubeconfig", valid}, []string{"check that kubeconfig " + valid + " may create certificatesigningrequests", "is the API server at " + down + " up and reachable", "othing was changed"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			start := time.Now()
			_, _, err := execute(t, append(append([]string{"renew"}, tt.args...), flags...)...)
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want one containing %q", err, w)
				}
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
}

// fakeAPIServer is an HTTPS server, with a serving certificate from n's
// CA, that answers SelfSubjectAccessReviews about CSRs: allowed for the
// verbs in allow, denied for the others. It answers anything else with a
// 500, and records every request.
type fakeAPIServer struct {
	URL  string
	mu   sync.Mutex
	seen []string
}

func startFakeAPIServer(t *testing.T, n *pkitest.Node, allow ...string) *fakeAPIServer {
	t.Helper()
	f := &fakeAPIServer{}
	f.URL = startFakeAPI(t, n, func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.seen = append(f.seen, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" {
			http.Error(w, "not in this test", http.StatusInternalServerError)
			return
		}
		body, _ := io.ReadAll(r.Body)
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
		review, ok := obj.(*authzv1.SelfSubjectAccessReview)
		if err != nil || !ok || review.Spec.ResourceAttributes == nil {
			http.Error(w, fmt.Sprintf("bad review: %v", err), http.StatusBadRequest)
			return
		}
		review.Status.Allowed = slices.Contains(allow, review.Spec.ResourceAttributes.Verb)
		review.APIVersion, review.Kind = "authorization.k8s.io/v1", "SelfSubjectAccessReview"
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(review)
	})
	return f
}

func (f *fakeAPIServer) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen)
}

// TestRenewUseAPIAccessDenied: a kubeconfig whose user may create and get
// CSRs but not list or watch them fails at once, naming the kubeconfig,
// its user and what to grant, before any key is written or CSR created.
func TestRenewUseAPIAccessDenied(t *testing.T) {
	n, flags := renewNode(t)
	srv := startFakeAPIServer(t, n, "create", "get")
	kc := n.APIKubeconfig(t, srv.URL, pki.NewValidity(time.Now(), time.Hour, time.Hour))
	before := treetest.Snapshot(t, n.Dir)
	_, _, err := execute(t, append([]string{"renew", "admin.conf", "apiserver", "--use-api", "--kubeconfig", kc}, flags...)...)
	treetest.ErrMentions(t, err, "kubeconfig "+kc+` (user "kubernetes-admin") may not list, watch certificatesigningrequests`,
		"needs create, get, list and watch", "ClusterRole certctl:renew", "--user=kubernetes-admin", "nothing was changed")
	if exitcode.Of(err) != 1 {
		t.Errorf("exit status %d, want 1", exitcode.Of(err))
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	for _, r := range srv.requests() {
		if strings.Contains(r, "certificatesigningrequests") {
			t.Errorf("request %s after the access check failed", r)
		}
	}
}
