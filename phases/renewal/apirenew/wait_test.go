package apirenew

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// forbid makes cs refuse to list (for "list") or watch (for "watch") CSRs,
// as RBAC does for a user without those verbs.
func forbid(cs *fake.Clientset, verbs ...string) {
	for _, v := range verbs {
		err := apierrors.NewForbidden(csrResource.GroupResource(), "", nil)
		if v == "watch" {
			cs.PrependWatchReactor("certificatesigningrequests", func(k8stesting.Action) (bool, watch.Interface, error) { return true, nil, err })
			continue
		}
		cs.PrependReactor(v, "certificatesigningrequests", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, err })
	}
}

// TestWatchForbidden: a user that may create and get CSRs but not list or
// watch them (and whose SelfSubjectAccessReviews give no answer) is told
// so well within the timeout; once the CSR is approved and issued, the
// same command gets its certificate (by GET, with a warning that says what
// to grant, when it may not list).
func TestWatchForbidden(t *testing.T) {
	for _, verbs := range [][]string{{"list", "watch"}, {"watch"}} {
		t.Run(strings.Join(verbs, "+"), func(t *testing.T) {
			cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
			forbid(cs, verbs...)
			reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile)}
			grace := func(o *Options) {
				o.Timeout, o.ForbiddenGrace = time.Minute, time.Millisecond
				o.Credentials, o.User = "kubeconfig /etc/kubernetes/node.conf", "node-renewer"
			}
			is, out := newIssuer(t, cs, dir, grace)
			start := time.Now()
			err := is.Obtain(context.Background(), reqs)
			if err == nil || !contains(err.Error(), "stopped waiting for CSR(s) certctl-cp-1-admin.conf-", ": pending",
				`kubeconfig /etc/kubernetes/node.conf (user "node-renewer") may not list or watch certificatesigningrequests`, "forbidden",
				"Grant list and watch", "--user=node-renewer", "nothing was changed", "run the same command again") {
				t.Fatalf("Obtain: %v\n%s", err, out)
			}
			// The reflector retries a refused watch after up to a minute.
			if d := time.Since(start); d > 50*time.Second {
				t.Errorf("took %v", d)
			}
			key, _ := is.pending.load("admin.conf")
			name, _ := CSRName("cp-1", "admin.conf", key.Public())
			decide(t, cs, name, certv1.CertificateApproved, ca)

			is, out = newIssuer(t, cs, dir, grace)
			if err := is.Obtain(context.Background(), reqs); err != nil {
				t.Fatalf("second run, the CSR issued: %v\n%s", err, out)
			}
			got, err := is.Issue(context.Background(), reqs)
			if err != nil || !pki.SamePublicKey(got[0].Cert.PublicKey, key.Public()) {
				t.Fatalf("Issue: %v, or not the pending key's certificate", err)
			}
			// Allowed to list, the wait sees the certificate in its first
			// list, before it watches.
			warned := contains(out.String(), "[warning] Every CSR is issued, but kubeconfig /etc/kubernetes/node.conf", "may not list or watch", "grant list and watch")
			if warned != (verbs[0] == "list") {
				t.Errorf("warned %v; output:\n%s", warned, out)
			}
		})
	}
}

// TestTimeoutUsesIssued: a watch that never shows the certificate (here
// one that delivers nothing) does not fail a run whose certificate is
// issued: at the timeout each CSR is got once more, and the certificate
// used, with a line that says certctl could not watch it.
func TestTimeoutUsesIssued(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	cs.PrependWatchReactor("certificatesigningrequests", func(k8stesting.Action) (bool, watch.Interface, error) { return true, watch.NewFake(), nil })
	cs.PrependReactor("list", "certificatesigningrequests", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &certv1.CertificateSigningRequestList{}, nil
	})
	reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile), ca.request(t, "controller-manager.conf",
		pki.Profile{CommonName: "system:kube-controller-manager", ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})}
	// Long enough for the approval below to come before it on a loaded
	// machine (500ms failed under make test's load).
	const timeout = 2 * time.Second
	is, out := newIssuer(t, cs, dir, func(o *Options) { o.Timeout = timeout })
	var names []string
	done := whenCreated(t, cs, 2, func(n string) { names = append(names, n) })
	errc := make(chan error, 1)
	go func() { errc <- is.Obtain(context.Background(), reqs) }()
	done()
	// One issued: the run still times out, and says what it saw.
	decide(t, cs, names[0], certv1.CertificateApproved, ca)
	err := <-errc
	var inc *IncompleteError
	if !errors.As(err, &inc) || !contains(err.Error(), "timed out after "+timeout.String(), names[1]+" for controller-manager.conf is pending approval") ||
		!slices.Equal(inc.Obtained, []string{"admin.conf"}) ||
		!contains(out.String(), "CSR(s) "+names[0]+" for admin.conf issued, but certctl could not watch them: grant", "list and watch on certificatesigningrequests") {
		t.Fatalf("Obtain with one CSR issued: %v\n%s", err, out)
	}
	// Both issued: the same command installs them.
	decide(t, cs, names[1], certv1.CertificateApproved, ca)
	is, out = newIssuer(t, cs, dir, func(o *Options) { o.Timeout = 500 * time.Millisecond })
	if err := is.Obtain(context.Background(), reqs); err != nil {
		t.Fatalf("Obtain with both issued: %v\n%s", err, out)
	}
	if got, err := is.Issue(context.Background(), reqs); err != nil || len(got) != 2 {
		t.Fatalf("Issue: %v", err)
	}
	if !contains(out.String(), "issued already", "[warning] CSR(s) ", "issued, but certctl could not watch them", "found them only at the timeout") {
		t.Errorf("output:\n%s", out)
	}
}

// TestWatchGuardGrace: a refusal stops the wait only once it has lasted
// the grace, and a success of the same verb starts it again.
func TestWatchGuardGrace(t *testing.T) {
	clk := &fakePassiveClock{now: testNow}
	stopped := false
	g := newWatchGuard(clk, 30*time.Second, func() { stopped = true })
	forbidden := apierrors.NewForbidden(csrResource.GroupResource(), "", nil)
	g.observe("watch", forbidden)
	clk.now = clk.now.Add(20 * time.Second)
	g.observe("watch", nil) // kube-apiserver has loaded its RBAC rules
	g.observe("list", nil)
	clk.now = clk.now.Add(20 * time.Second)
	g.observe("watch", forbidden)
	g.observe("watch", apierrors.NewServiceUnavailable("starting"))
	if stopped || g.forbidden() != nil {
		t.Fatal("stopped within the grace")
	}
	clk.now = clk.now.Add(30 * time.Second)
	g.observe("watch", forbidden)
	if !stopped || !apierrors.IsForbidden(g.forbidden()) {
		t.Fatalf("not stopped after the grace: %v", g.forbidden())
	}
}

type fakePassiveClock struct{ now time.Time }

func (c *fakePassiveClock) Now() time.Time                  { return c.now }
func (c *fakePassiveClock) Since(t time.Time) time.Duration { return c.now.Sub(t) }

// TestWrongCA: a certificate signed by another CA than the one of the
// certificate it renews (a signer name that is not this CA's) names the
// CSR and says what to check. Its CSR was approved and issued: the advice
// is not that of a denied or failed CSR ("cannot be approved again"), in
// this run or the next, which finds the refusal noted.
func TestWrongCA(t *testing.T) {
	cs, ca, other, dir := fakeClient(), newTestCA(t), newTestCA(t), t.TempDir()
	is, out := newIssuer(t, cs, dir, nil)
	done := whenCreated(t, cs, 1, func(n string) { decide(t, cs, n, certv1.CertificateApproved, other) })
	reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile)}
	err := is.Obtain(context.Background(), reqs)
	done()
	if err == nil || !contains(err.Error(), "CSR certctl-cp-1-admin.conf-", "for admin.conf was issued a certificate signed by", "not by the CA",
		"check that signer kubernetes.io/kube-apiserver-client signs with that CA", "--new-request=admin.conf") {
		t.Fatalf("Obtain: %v\n%s", err, out)
	}
	if _, err := os.Stat(is.pending.path("admin.conf")); err != nil {
		t.Errorf("pending key: %v", err)
	}
	is2, out2 := newIssuer(t, cs, dir, func(o *Options) { o.Timeout = time.Minute })
	err2 := is2.Obtain(context.Background(), reqs)
	for i, e := range []error{err, err2} {
		var inc *IncompleteError
		if !errors.As(e, &inc) || len(inc.NotIssued) != 1 || !inc.NotIssued[0].Rejected || !inc.NotIssued[0].Refused {
			t.Fatalf("run %d: %#v\n%s%s", i+1, e, out, out2)
		}
		if msg := e.Error(); strings.Contains(msg, "denied or failed") ||
			!contains(msg, "The certificate a CSR was issued never changes", "once its signer is fixed, renew with a new key and CSR: certctl renew admin.conf --use-api --new-request=admin.conf") {
			t.Errorf("run %d: %v", i+1, msg)
		}
	}
}

// TestRefusedAdvice: the advice after the CSRs refused fits why each was:
// denied or failed (cannot be approved again), or issued a certificate
// certctl refused (the certificate never changes), or both; one refused
// under the lock because its files changed since (Changed) asks no fix of
// its signer.
func TestRefusedAdvice(t *testing.T) {
	denied := NotIssued{Name: "admin.conf", CSR: "a", State: "was denied", Refused: true}
	wrong := NotIssued{Name: "apiserver", CSR: "b", State: "was issued a certificate signed by \"x\"", Refused: true, Rejected: true}
	pending := NotIssued{Name: "super-admin.conf", CSR: "c", State: "is pending approval"}
	changed := NotIssued{Name: "apiserver", CSR: "d", State: "was issued a certificate that no longer fits", Refused: true, Rejected: true, Changed: true}
	for _, tc := range []struct {
		name      string
		notIssued []NotIssued
		approve   string
		want      string
	}{
		{"denied", []NotIssued{denied}, "", ". A denied or failed CSR cannot be approved again: once the cause is fixed, renew with a new key and CSR: R"},
		{"issued wrong", []NotIssued{wrong}, "", ". The certificate a CSR was issued never changes, and approving it again would not change it: once its signer is fixed, renew with a new key and CSR: R"},
		{"both", []NotIssued{denied, wrong}, "", ". A denied or failed CSR cannot be approved again, and the certificate a CSR was issued never changes: once the cause is fixed, renew"},
		{"issued wrong and pending", []NotIssued{wrong, pending}, "A", ". The certificate a CSR was issued never changes, and approving it again would not change it: once its signer is fixed, it needs a new key and CSR (--new-request NAME). Approve the pending ones (A), then run: R"},
		{"files changed", []NotIssued{changed}, "", ". The certificate a CSR was issued never changes, and approving it again would not change it: renew with a new key and CSR: R"},
		{"files changed and pending", []NotIssued{changed, pending}, "A", ". The certificate a CSR was issued never changes, and approving it again would not change it: it needs a new key and CSR (--new-request NAME). Approve the pending ones (A), then run: R"},
		{"files changed and issued wrong", []NotIssued{changed, wrong}, "", ": once its signer is fixed, renew with a new key and CSR: R"},
		{"files changed and denied", []NotIssued{changed, denied}, "", ": once the cause is fixed, renew with a new key and CSR: R"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &IncompleteError{NotIssued: tc.notIssued, Approve: tc.approve, Rerun: "R"}
			if !strings.Contains(e.Error(), tc.want) {
				t.Errorf("%s\nwant %q", e.Error(), tc.want)
			}
		})
	}
}

// TestCreateErrorKeepsCancellation: client-go formats a failed create with
// %v; a signal's cancellation must stay in the chain (main then says
// "interrupted; nothing was changed"), a timeout's or a dead server's not.
func TestCreateErrorKeepsCancellation(t *testing.T) {
	is := &Issuer{}
	j := &job{name: "certctl-apiserver-1", signer: "certctl.io/kube-apiserver-serving", req: renewal.Request{Target: renewal.Target{Name: "apiserver"}}}
	flat := errors.New("cannot create certificate signing request: context canceled")

	stopped, stop := context.WithCancel(context.Background())
	stop()
	timedOut, expire := context.WithCancelCause(context.Background())
	expire(errTimedOut)
	tests := []struct {
		name     string
		ctx      context.Context
		canceled bool
	}{
		{"signal", stopped, true},
		{"timeout", timedOut, false},
		{"running", context.Background(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := is.createError(tc.ctx, j, flat)
			if got := errors.Is(err, context.Canceled); got != tc.canceled {
				t.Errorf("errors.Is(%q, context.Canceled) = %v, want %v", err, got, tc.canceled)
			}
			if !strings.Contains(err.Error(), "create CSR certctl-apiserver-1 for apiserver") {
				t.Errorf("error %q does not name the CSR", err)
			}
		})
	}
}

// TestWaitIgnoresCollidingName: renew's own wait is not fooled by the
// names --all-from-node must tell apart (FromNode). Node cp-super's
// admin.conf CSR, certctl-cp-super-admin.conf-KEYHASH, approved and
// issued, is not node cp's super-admin.conf CSR, whose name has the same
// prefix: cp's renewal waits for the exact name of its own key and times
// out with nothing obtained.
func TestWaitIgnoresCollidingName(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	other := renewCSR(t, "cp-super", "cp-super", "admin.conf")
	if _, err := cs.CertificatesV1().CertificateSigningRequests().Create(context.Background(), other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	decide(t, cs, other.Name, certv1.CertificateApproved, ca)
	superAdmin := pki.Profile{CommonName: "kubernetes-super-admin", Organization: []string{pki.MastersGroup}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	is, out := newIssuer(t, cs, dir, func(o *Options) { o.NodeName, o.Timeout = "cp", 500*time.Millisecond })
	err := is.Obtain(context.Background(), []renewal.Request{ca.request(t, "super-admin.conf", superAdmin)})
	var inc *IncompleteError
	if !errors.As(err, &inc) || len(inc.Obtained) != 0 || !contains(err.Error(), "timed out", "CSR certctl-cp-super-admin.conf-", "for super-admin.conf is pending approval") ||
		strings.Contains(err.Error(), other.Name) {
		t.Fatalf("Obtain: %v\n%s", err, out)
	}
}

// TestWaitSaysAPIServerUnreachable: an API server that stops answering
// while certctl waits (stopped, restarted by hand, a network cut) is not
// reported as CSRs "pending approval" for the whole --timeout: the
// progress lines say that it does not answer, and the timeout's error
// names it and says that the states are as last seen, instead of only
// asking for an approval that may well have been given. One that
// answers with a 5xx (etcd down behind it) is up and reached: the lines
// and the error say so and to check its log, not "is it up and
// reachable?", which they said.
func TestWaitSaysAPIServerUnreachable(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "https://192.0.2.10:6443/apis/certificates.k8s.io/v1/certificatesigningrequests",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	for _, tc := range []struct {
		name      string
		err       error
		want, not []string
		line      []string
	}{
		{"refused", refused, []string{"the API server at https://192.0.2.10:6443 has not answered", "connection refused", "is it up and reachable?"}, nil,
			[]string{"[renew] The API server at https://192.0.2.10:6443 has not answered", "connection refused"}},
		{"503", apierrors.NewServiceUnavailable("etcdserver: leader changed"),
			[]string{"the API server at https://192.0.2.10:6443 has answered only errors for the last", "etcdserver: leader changed", "it answered 503 Service Unavailable, an error of its own (or of etcd behind it): check its log. "},
			[]string{"up and reachable", "not answered"},
			[]string{"[renew] The API server at https://192.0.2.10:6443 has answered only errors for ", "waiting for it to recover"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
			cs.PrependWatchReactor("certificatesigningrequests", func(k8stesting.Action) (bool, watch.Interface, error) { return true, nil, tc.err })
			cs.PrependReactor("list", "certificatesigningrequests", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tc.err })
			// The CSR is created; then the API server is gone, for the get at
			// the timeout too.
			cs.PrependReactor("create", "certificatesigningrequests", func(k8stesting.Action) (bool, runtime.Object, error) {
				cs.PrependReactor("get", "certificatesigningrequests", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tc.err })
				return false, nil, nil
			})
			reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile)}
			is, out := newIssuer(t, cs, dir, func(o *Options) {
				o.Timeout, o.ProgressInterval, o.Server = 1500*time.Millisecond, 300*time.Millisecond, "https://192.0.2.10:6443"
			})
			err := is.Obtain(context.Background(), reqs)
			if err == nil || !contains(err.Error(), append(tc.want, "timed out after 1.5s", "as last seen", "is pending approval")...) {
				t.Fatalf("Obtain with the API server gone: %v\n%s", err, out)
			}
			for _, n := range tc.not {
				if strings.Contains(err.Error(), n) || strings.Contains(out.String(), n) {
					t.Errorf("says %q: %v\n%s", n, err, out)
				}
			}
			if !contains(out.String(), tc.line...) {
				t.Errorf("no progress line says what the API server does:\n%s", out)
			}
		})
	}
}

// TestCreateErrorTimedOut: a CSR whose creation --timeout cut short is
// reported as the timeout it is, with what to do, not as an API server
// that may be down ("context deadline exceeded: is the API server up and
// reachable?"), which sent the user looking at a healthy API server.
func TestCreateErrorTimedOut(t *testing.T) {
	is := &Issuer{o: Options{Timeout: time.Millisecond, Server: "https://192.0.2.10:6443"}}
	j := &job{name: "certctl-cp-1-admin.conf-1", signer: "kubernetes.io/kube-apiserver-client", req: renewal.Request{Target: renewal.Target{Name: "admin.conf"}}}
	ctx, expire := context.WithCancelCause(context.Background())
	expire(errTimedOut)
	err := is.createError(ctx, j, errors.New("cannot create certificate signing request: context deadline exceeded"))
	if !contains(err.Error(), "create CSR certctl-cp-1-admin.conf-1 for admin.conf", "timed out after 1ms", "--timeout", "nothing was changed") ||
		strings.Contains(err.Error(), "up and reachable") {
		t.Errorf("createError at the timeout: %v", err)
	}
}
