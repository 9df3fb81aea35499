package apirenew

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"strings"
	"sync"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testCA is a CA with a current leaf for each request the tests make.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key := newKey(t)
	cert, err := pki.NewSelfSignedCA(rand.Reader, pki.Profile{Name: "ca", CommonName: "kubernetes", IsCA: true}, key,
		pki.NewValidity(time.Now(), time.Hour, 10*365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// request is what renewal would ask for the certificate called name with
// profile p: the current certificate is signed by ca.
func (ca *testCA) request(t testing.TB, name string, p pki.Profile) renewal.Request {
	t.Helper()
	cur, err := pki.Sign(rand.Reader, p, newKey(t).Public(), ca.cert, ca.key, pki.NewValidity(time.Now(), time.Hour, 24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return renewal.Request{Target: renewal.Target{Name: name, CAName: pki.CAName}, Current: cur,
		Profile: pki.ProfileFromCert(name, name, pki.CAName, cur), CA: ca.cert, Validity: 24 * time.Hour, KeyAlgorithm: pki.ECDSAP256}
}

var adminProfile = pki.Profile{CommonName: "kubernetes-admin", Organization: []string{pki.ClusterAdminsGroup}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}

var csrResource = certv1.SchemeGroupVersion.WithResource("certificatesigningrequests")

// fakeClient is a fake clientset that behaves like the API server where
// client-go's csr package needs it to: it gives each CSR a UID, and lists
// and watches honour the metadata.name field selector.
func fakeClient() *fake.Clientset {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "certificatesigningrequests", func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj := a.(k8stesting.CreateAction).GetObject().(*certv1.CertificateSigningRequest)
		obj.UID = types.UID("uid-" + obj.Name)
		return false, nil, nil
	})
	cs.PrependReactor("list", "certificatesigningrequests", func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj, err := cs.Tracker().List(csrResource, certv1.SchemeGroupVersion.WithKind("CertificateSigningRequest"), "")
		if err != nil {
			return true, nil, err
		}
		list := obj.(*certv1.CertificateSigningRequestList)
		sel := a.(k8stesting.ListAction).GetListRestrictions().Fields
		var items []certv1.CertificateSigningRequest
		for _, c := range list.Items {
			if sel.Matches(fields.Set{"metadata.name": c.Name}) {
				items = append(items, c)
			}
		}
		list.Items = items
		return true, list, nil
	})
	cs.PrependWatchReactor("certificatesigningrequests", func(a k8stesting.Action) (bool, watch.Interface, error) {
		sel := a.(k8stesting.WatchAction).GetWatchRestrictions().Fields
		match := func(e watch.Event) bool {
			c, ok := e.Object.(*certv1.CertificateSigningRequest)
			return ok && sel.Matches(fields.Set{"metadata.name": c.Name})
		}
		// The tracker's watch ignores the resource version the reflector
		// lists at: a change between its list and its watch would be
		// lost, and the wait would time out. The watch starts, then
		// replays what is there now, as the API server's watch from the
		// list's resource version would show it.
		w, err := cs.Tracker().Watch(csrResource, "")
		if err != nil {
			return true, nil, err
		}
		obj, err := cs.Tracker().List(csrResource, certv1.SchemeGroupVersion.WithKind("CertificateSigningRequest"), "")
		if err != nil {
			w.Stop()
			return true, nil, err
		}
		ch := make(chan watch.Event)
		pw := watch.NewProxyWatcher(ch)
		go func() {
			defer close(ch)
			defer w.Stop()
			send := func(e watch.Event) bool {
				if !match(e) {
					return true
				}
				select {
				case ch <- e:
					return true
				case <-pw.StopChan():
					return false
				}
			}
			for i := range obj.(*certv1.CertificateSigningRequestList).Items {
				if !send(watch.Event{Type: watch.Modified, Object: &obj.(*certv1.CertificateSigningRequestList).Items[i]}) {
					return
				}
			}
			for {
				select {
				case e, ok := <-w.ResultChan():
					if !ok || !send(e) {
						return
					}
				case <-pw.StopChan():
					return
				}
			}
		}()
		return true, pw, nil
	})
	return cs
}

// decide adds a condition to CSR name and, for Approved, signs it with ca
// (nil: leave it approved without a certificate).
func decide(t testing.TB, cs *fake.Clientset, name string, cond certv1.RequestConditionType, ca *testCA) {
	t.Helper()
	decideValid(t, cs, name, cond, ca, pki.NewValidity(time.Now(), 5*time.Minute, time.Hour))
}

// decideValid is decide, issuing the certificate for validity v.
func decideValid(t testing.TB, cs *fake.Clientset, name string, cond certv1.RequestConditionType, ca *testCA, v pki.Validity) {
	t.Helper()
	ctx := context.Background()
	csrs := cs.CertificatesV1().CertificateSigningRequests()
	got, err := csrs.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got.Status.Conditions = append(got.Status.Conditions, certv1.CertificateSigningRequestCondition{
		Type: cond, Status: corev1.ConditionTrue, Reason: "TestReason", Message: "test message"})
	if got, err = csrs.UpdateApproval(ctx, name, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if cond != certv1.CertificateApproved || ca == nil {
		return
	}
	req, err := signer.ParseRequest(got)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := signer.Issue(rand.Reader, &signer.CA{Cert: ca.cert, Key: ca.key}, req, got.Spec.Usages, v)
	if err != nil {
		t.Fatal(err)
	}
	got.Status.Certificate = certPEM
	if _, err := csrs.UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// whenCreated calls f with the name of each CSR as it is created, n times.
func whenCreated(t testing.TB, cs *fake.Clientset, n int, f func(name string)) (wait func()) {
	t.Helper()
	w, err := cs.Tracker().Watch(csrResource, "")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer w.Stop()
		for e := range w.ResultChan() {
			if e.Type == watch.Added {
				f(e.Object.(*certv1.CertificateSigningRequest).Name)
				if n--; n == 0 {
					return
				}
			}
		}
	}()
	return func() { <-done }
}

func csrCount(t testing.TB, cs *fake.Clientset) int {
	t.Helper()
	l, err := cs.CertificatesV1().CertificateSigningRequests().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

// syncBuffer is a bytes.Buffer safe for the issuer's goroutine and the
// test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or 10 seconds have passed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func contains(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
