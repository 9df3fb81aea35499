package apirenew

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	testclock "k8s.io/utils/clock/testing"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

func newIssuer(t *testing.T, cs *fake.Clientset, dir string, change func(o *Options)) (*Issuer, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	o := Options{Client: cs, NodeName: "cp-1", PendingDir: filepath.Join(dir, PendingDirName), Out: out, Timeout: 10 * time.Second}
	if change != nil {
		change(&o)
	}
	is, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return is, out
}

func TestObtainAndIssue(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	is, out := newIssuer(t, cs, dir, func(o *Options) { o.ApproveFlags = " --config kubeadm.yaml" })
	serving := pki.Profile{CommonName: "kube-apiserver", DNSNames: []string{"kubernetes", "cp-1"}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile), ca.request(t, "apiserver", serving)}
	signed := whenCreated(t, cs, 2, func(name string) { decide(t, cs, name, certv1.CertificateApproved, ca) })
	if err := is.Obtain(context.Background(), reqs); err != nil {
		t.Fatalf("Obtain: %v\n%s", err, out)
	}
	signed()
	got, err := is.Issue(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reqs {
		if err := pki.VerifyIssued(got[i].Cert, nil, got[i].Key.Public(), ca.cert, r.Profile, time.Now()); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
		name, _ := CSRName("cp-1", r.Name, got[i].Key.Public())
		k, err := is.pending.load(r.Name)
		if err != nil || k == nil || !pki.SamePublicKey(k.Public(), got[i].Key.Public()) {
			t.Errorf("%s: pending key %v, %v; want the CSR's key", r.Name, k, err)
		}
		if !contains(out.String(), "CSR "+name+" for "+r.Name, "certctl approve --all-from-node cp-1 --config kubeadm.yaml\n", "CSR "+name+" for "+r.Name+" issued") {
			t.Errorf("output lacks %s's CSR %s:\n%s", r.Name, name, out)
		}
	}
	if !contains(out.String(), "signer "+certv1.KubeAPIServerClientSignerName, "signer "+signer.KubeAPIServerServing,
		"kubectl certificate approve certctl-cp-1-admin.conf-", "`certctl signer run`", "certctl signer enable") {
		t.Errorf("output:\n%s", out)
	}
	if n := csrCount(t, cs); n != 2 {
		t.Errorf("%d CSRs, want 2", n)
	}
	if err := is.Installed([]string{"admin.conf", "apiserver"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(is.pending.dir); !os.IsNotExist(err) {
		t.Errorf("pending folder left after Installed: %v", err)
	}
}

func TestDeniedAndFailed(t *testing.T) {
	for _, tc := range []struct {
		cond certv1.RequestConditionType
		want string
	}{
		{certv1.CertificateDenied, `was denied (reason "TestReason": test message)`},
		{certv1.CertificateFailed, `failed: the signer kubernetes.io/kube-apiserver-client refused it (reason "TestReason": test message)`},
	} {
		t.Run(string(tc.cond), func(t *testing.T) {
			cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
			reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile)}
			is, out := newIssuer(t, cs, dir, nil)
			done := whenCreated(t, cs, 1, func(name string) { decide(t, cs, name, tc.cond, nil) })
			err := is.Obtain(context.Background(), reqs)
			done()
			var inc *IncompleteError
			if !errors.As(err, &inc) || !contains(err.Error(), tc.want, "cannot be approved again", "certctl renew admin.conf --use-api --new-request=admin.conf") ||
				len(inc.Obtained) != 0 || !slices.Equal(inc.Refused(), []string{"admin.conf"}) {
				t.Fatalf("Obtain: %v\n%s", err, out)
			}
			// The same command again knows: it says so at once, without
			// waiting, even once the CSR is deleted (kube-controller-
			// manager's cleaner deletes it an hour later).
			for _, deleted := range []bool{false, true} {
				if deleted {
					if err := cs.CertificatesV1().CertificateSigningRequests().Delete(context.Background(), inc.NotIssued[0].CSR, metav1.DeleteOptions{}); err != nil {
						t.Fatal(err)
					}
				}
				is, out = newIssuer(t, cs, dir, func(o *Options) { o.Timeout = time.Minute })
				start := time.Now()
				err2 := is.Obtain(context.Background(), reqs)
				if err2 == nil || !contains(err2.Error(), tc.want+" in an earlier run", "--new-request=admin.conf") || time.Since(start) > 5*time.Second {
					t.Errorf("second run (deleted %v): %v after %v\n%s", deleted, err2, time.Since(start), out)
				}
				if want := 1; deleted {
					want = 0
					if n := csrCount(t, cs); n != want {
						t.Errorf("%d CSRs after the second run, want %d: created again", n, want)
					}
				}
			}
			// --new-request for another name only: refused before anything.
			is, _ = newIssuer(t, cs, dir, func(o *Options) { o.NewRequestFor = []string{"apiserver"} })
			if err := is.Obtain(context.Background(), reqs); err == nil || !contains(err.Error(), "--new-request names apiserver, which this run does not renew (it renews admin.conf)") {
				t.Errorf("--new-request=apiserver: %v", err)
			}
			// --new-request=admin.conf: a new key, a new CSR.
			is, _ = newIssuer(t, cs, dir, func(o *Options) { o.NewRequestFor = []string{"admin.conf"} })
			done = whenCreated(t, cs, 1, func(name string) { decide(t, cs, name, certv1.CertificateApproved, ca) })
			if err := is.Obtain(context.Background(), reqs); err != nil {
				t.Fatalf("--new-request: %v", err)
			}
			done()
			if n := csrCount(t, cs); n != 1 {
				t.Errorf("%d CSRs after --new-request, want 1 (the refused one was deleted)", n)
			}
			if _, err := os.Stat(is.pending.refusedPath("admin.conf")); !os.IsNotExist(err) {
				t.Errorf("refusal note left after --new-request: %v", err)
			}
		})
	}
}

// TestTimeoutThenResume: a run that times out names its CSR; approved
// afterwards, the same command installs that CSR's certificate with the
// pending key, creating no other CSR.
func TestTimeoutThenResume(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile)}
	is, out := newIssuer(t, cs, dir, func(o *Options) { o.Timeout = 300 * time.Millisecond })
	start := time.Now()
	err := is.Obtain(context.Background(), reqs)
	if err == nil || !contains(err.Error(), "timed out after 300ms", "certctl-cp-1-admin.conf-", "is pending approval", "run the same command again") {
		t.Fatalf("Obtain: %v\n%s", err, out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout of 300ms took %v", d)
	}
	key, _ := is.pending.load("admin.conf")
	name, _ := CSRName("cp-1", "admin.conf", key.Public())
	decide(t, cs, name, certv1.CertificateApproved, ca)

	is, out = newIssuer(t, cs, dir, nil)
	got, err := is.Issue(context.Background(), reqs)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	if !pki.SamePublicKey(got[0].Key.Public(), key.Public()) || !pki.SamePublicKey(got[0].Cert.PublicKey, key.Public()) {
		t.Error("the second run did not use the pending key")
	}
	if n := csrCount(t, cs); n != 1 {
		t.Errorf("%d CSRs, want 1", n)
	}
	if !contains(out.String(), "resumed with the pending key", "issued already") || strings.Contains(out.String(), "Approve with") {
		t.Errorf("output:\n%s", out)
	}
}

func TestTimeoutApprovedNotIssued(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	p := pki.Profile{CommonName: "front-proxy-client", ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	is, _ := newIssuer(t, cs, dir, func(o *Options) { o.Timeout = 300 * time.Millisecond })
	done := whenCreated(t, cs, 1, func(name string) { decide(t, cs, name, certv1.CertificateApproved, nil) })
	err := is.Obtain(context.Background(), []renewal.Request{ca.request(t, "front-proxy-client", p)})
	done()
	if err == nil || !contains(err.Error(), "was approved but signer certctl.io/front-proxy-client has not issued it", "is `certctl signer run` running") {
		t.Fatalf("Obtain: %v", err)
	}
}

func TestInterrupted(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	is, _ := newIssuer(t, cs, dir, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := whenCreated(t, cs, 1, func(string) { cancel() })
	err := is.Obtain(ctx, []renewal.Request{ca.request(t, "admin.conf", adminProfile)})
	done()
	if err == nil || !contains(err.Error(), "interrupted waiting for CSR(s) certctl-cp-1-admin.conf-") {
		t.Fatalf("Obtain: %v", err)
	}
}

// TestProgress: with an injected clock, one line per change of a CSR
// (approved, denied, issued), one line per ProgressInterval with each
// CSR's state, and a hint naming the component that should issue a CSR
// approved SignerHintAfter ago; the run ends once every CSR is answered,
// with the denied one reported and the others obtained.
func TestProgress(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	clk := testclock.NewFakeClock(testNow)
	is, out := newIssuer(t, cs, dir, func(o *Options) { o.Clock = clk; o.ProgressInterval = 10 * time.Second })
	frontProxy := pki.Profile{CommonName: "front-proxy-client", ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	scheduler := pki.Profile{CommonName: "system:kube-scheduler", ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile), ca.request(t, "front-proxy-client", frontProxy), ca.request(t, "scheduler.conf", scheduler)}
	names := map[string]string{}
	var mu sync.Mutex
	created := whenCreated(t, cs, 3, func(n string) {
		mu.Lock()
		defer mu.Unlock()
		names[strings.TrimPrefix(n[:strings.LastIndex(n, "-")], "certctl-cp-1-")] = n
	})
	errc := make(chan error, 1)
	go func() { errc <- is.Obtain(context.Background(), reqs) }()
	created()
	admin, fp, sched := names["admin.conf"], names["front-proxy-client"], names["scheduler.conf"]
	saw := func(want string) {
		t.Helper()
		waitFor(t, "output line "+want, func() bool { return strings.Contains(out.String(), want) })
	}
	saw("Waiting up to")
	waitFor(t, "the wait's ticker", clk.HasWaiters)
	clk.Step(10 * time.Second)
	saw("Waited 10s; 3 of 3 CSR(s) not issued yet: pending approval: " + admin + " (admin.conf), " + fp + " (front-proxy-client), " + sched + " (scheduler.conf)\n")

	decide(t, cs, admin, certv1.CertificateApproved, nil)
	saw("CSR " + admin + " for admin.conf approved: waiting for signer kubernetes.io/kube-apiserver-client to issue it\n")
	decide(t, cs, sched, certv1.CertificateDenied, nil)
	saw("CSR " + sched + ` for scheduler.conf was denied (reason "TestReason": test message): it will not be installed; the others go on`)
	clk.Step(10 * time.Second)
	saw("Waited 20s; 2 of 3 CSR(s) not issued yet: approved, waiting for signer kubernetes.io/kube-apiserver-client: " + admin + " (admin.conf); pending approval: " + fp + " (front-proxy-client)\n")
	if strings.Contains(out.String(), "has not issued it") {
		t.Fatalf("signer hint 10s after the approval:\n%s", out)
	}
	clk.Step(20 * time.Second)
	saw("CSR " + admin + " (admin.conf) approved 30s ago but signer kubernetes.io/kube-apiserver-client has not issued it: is kube-controller-manager running, with --cluster-signing-cert-file")
	saw("Waited 40s;")

	decide(t, cs, admin, certv1.CertificateApproved, ca)
	saw("CSR " + admin + " for admin.conf issued (after 40s)")
	decide(t, cs, fp, certv1.CertificateApproved, ca)
	err := <-errc
	var inc *IncompleteError
	if !errors.As(err, &inc) || !slices.Equal(inc.Obtained, []string{"admin.conf", "front-proxy-client"}) || !slices.Equal(inc.Refused(), []string{"scheduler.conf"}) {
		t.Fatalf("Obtain: %v\n%s", err, out)
	}
	// One progress line per interval, one hint.
	if n, m := strings.Count(out.String(), "[renew] Waited "), strings.Count(out.String(), "has not issued it"); n != 3 || m != 1 {
		t.Errorf("%d progress lines in 40s, want 3 (the last step crossed two intervals at once); %d hints, want 1:\n%s", n, m, out)
	}
	if got, err := is.Issue(context.Background(), reqs[:2]); err != nil || len(got) != 2 {
		t.Errorf("Issue of the certificates obtained: %v", err)
	}
}

// TestPendingKeyReuse: a pending key that is already installed is removed
// and replaced; one of another algorithm is replaced.
func TestPendingKeyReuse(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	req := ca.request(t, "admin.conf", adminProfile)
	installed := newKey(t)
	var err error
	if req.Current, err = pki.Sign(rand.Reader, adminProfile, installed.Public(), ca.cert, ca.key, pki.NewValidity(time.Now(), time.Hour, time.Hour)); err != nil {
		t.Fatal(err)
	}
	is, first := newIssuer(t, cs, dir, nil)
	if err := is.pending.save("admin.conf", installed); err != nil {
		t.Fatal(err)
	}
	done := whenCreated(t, cs, 1, func(name string) { decide(t, cs, name, certv1.CertificateApproved, ca) })
	got, err := is.Issue(context.Background(), []renewal.Request{req})
	done()
	if err != nil {
		t.Fatal(err)
	}
	if pki.SamePublicKey(got[0].Key.Public(), installed.Public()) {
		t.Error("the installed key was requested again")
	}
	if !strings.Contains(first.String(), "[renew] Removed the pending key of admin.conf: its certificate is installed\n") {
		t.Errorf("the removal of the installed pending key is not said:\n%s", first)
	}

	rsaKey, err := pki.GenerateKey(rand.Reader, pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	is, out := newIssuer(t, cs, dir, nil)
	if err := is.pending.save("admin.conf", rsaKey); err != nil {
		t.Fatal(err)
	}
	done = whenCreated(t, cs, 1, func(name string) { decide(t, cs, name, certv1.CertificateApproved, ca) })
	if got, err = is.Issue(context.Background(), []renewal.Request{req}); err != nil {
		t.Fatal(err)
	}
	done()
	if pki.AlgorithmOf(got[0].Key.Public()) != pki.ECDSAP256 || !strings.Contains(out.String(), "is RSA-2048, not ECDSA-P256") {
		t.Errorf("pending RSA key for an ECDSA renewal: got %s\n%s", pki.AlgorithmOf(got[0].Key.Public()), out)
	}
}

// TestRefusedBeforeAnyCSR: requests that cannot succeed fail before a key
// is written or a CSR created. A validity under an hour was let through
// when the API accepted it (10 minutes): the certificate issued was then
// refused for it, and noted as such, after its approval.
func TestRefusedBeforeAnyCSR(t *testing.T) {
	ca := newTestCA(t)
	masters := pki.Profile{CommonName: "kubernetes-super-admin", Organization: []string{pki.MastersGroup}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	short := ca.request(t, "admin.conf", adminProfile)
	short.Validity = 5 * time.Minute
	halfHour := ca.request(t, "admin.conf", adminProfile)
	halfHour.Validity = 30 * time.Minute
	long := ca.request(t, "admin.conf", adminProfile)
	long.Validity = 1000000 * time.Hour
	for _, tc := range []struct {
		name    string
		reqs    []renewal.Request
		signers map[string]string
		want    string
	}{
		{"super-admin.conf with the built-in signer", []renewal.Request{ca.request(t, "admin.conf", adminProfile), ca.request(t, "super-admin.conf", masters)},
			map[string]string{"super-admin.conf": certv1.KubeAPIServerClientSignerName}, "O=system:masters"},
		{"validity below 10 minutes", []renewal.Request{short}, nil, "certificate validity 5m0s is below 1h0m0s, certctl's minimum"},
		// The API accepts 30 minutes, but the certificate issued for
		// them is refused by the issuance policy (less than an hour)
		// once approved, and so is every new key and CSR after it.
		{"validity below an hour", []renewal.Request{halfHour}, nil, "certificate validity 30m0s is below 1h0m0s, certctl's minimum: a certificate issued for less would be refused once approved"},
		{"validity beyond expirationSeconds", []renewal.Request{long}, nil, "does not fit in spec.expirationSeconds (at most 2147483647 seconds, about 68 years): lower certificateValidityPeriod in --config, or --certificate-validity"},
		{"unknown override", []renewal.Request{short}, map[string]string{"kubelet.conf": "example.com/x"}, "not a certificate certctl renews"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, dir := fakeClient(), t.TempDir()
			is, _ := newIssuer(t, cs, dir, func(o *Options) { o.SignerNames = tc.signers })
			if err := is.Obtain(context.Background(), tc.reqs); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Obtain: %v, want %q", err, tc.want)
			}
			if n := csrCount(t, cs); n != 0 {
				t.Errorf("%d CSRs created", n)
			}
			if _, err := os.Stat(is.pending.dir); !os.IsNotExist(err) {
				t.Errorf("pending folder made: %v", err)
			}
		})
	}
}

func TestCreateErrors(t *testing.T) {
	ca := newTestCA(t)
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"forbidden", apierrors.NewForbidden(csrResource.GroupResource(), "", nil), "needs create, get, list and watch on certificatesigningrequests"},
		{"unreachable", context.DeadlineExceeded, "is the API server at https://192.0.2.1:6443 up and reachable?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, dir := fakeClient(), t.TempDir()
			cs.PrependReactor("create", "certificatesigningrequests", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tc.err })
			is, _ := newIssuer(t, cs, dir, func(o *Options) { o.Server = "https://192.0.2.1:6443" })
			err := is.Obtain(context.Background(), []renewal.Request{ca.request(t, "admin.conf", adminProfile)})
			if err == nil || !contains(err.Error(), tc.want, "create CSR certctl-cp-1-admin.conf-", "othing was changed") {
				t.Errorf("Obtain: %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(is.pending.dir); !os.IsNotExist(err) {
				t.Errorf("pending key of a CSR never created left behind: %v", err)
			}
		})
	}
}

// TestInterruptedNamesCSRsToApprove: the error of an interrupted wait
// gives the approve command as it works when pasted, with the pending
// CSRs' names, as the timeout's does, not "kubectl certificate approve
// NAME" to fill in by hand.
func TestInterruptedNamesCSRsToApprove(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	is, _ := newIssuer(t, cs, dir, func(o *Options) { o.ApproveKubeconfig = " --kubeconfig /etc/kubernetes/admin.conf" })
	ctx, cancel := context.WithCancel(context.Background())
	var name string
	done := whenCreated(t, cs, 1, func(n string) { name = n; cancel() })
	err := is.Obtain(ctx, []renewal.Request{ca.request(t, "admin.conf", adminProfile)})
	done()
	if err == nil || !contains(err.Error(), "interrupted waiting for CSR(s) ", "kubectl certificate approve "+name+" --kubeconfig /etc/kubernetes/admin.conf") ||
		strings.Contains(err.Error(), "approve NAME") {
		t.Fatalf("Obtain: %v", err)
	}
}
