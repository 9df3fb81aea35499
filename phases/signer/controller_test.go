package signer

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/internal/promtest"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

func TestControllerSigns(t *testing.T) {
	cas := map[string]CAProvider{
		pki.CAName:           newTestCA(t, "kubernetes", testNow.Add(365*24*time.Hour)),
		pki.FrontProxyCAName: newTestCA(t, "front-proxy-ca", testNow.Add(365*24*time.Hour)),
		pki.EtcdCAName:       newTestCA(t, "etcd-ca", testNow.Add(365*24*time.Hour)),
	}
	api, fp, peer := profile(t, "apiserver"), profile(t, "front-proxy-client"), profile(t, "etcd-peer")
	evil := csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}, DNSNames: []string{"evil.example.com"}}, nil)
	objs := []runtime.Object{
		apiCSR("apiserver", KubeAPIServerServing, csrFor(t, api), usagesOf(api), true),
		apiCSR("front-proxy", FrontProxyClient, csrFor(t, fp), usagesOf(fp), true),
		apiCSR("etcd-peer", EtcdPeer, csrFor(t, peer), usagesOf(peer), true),
		apiCSR("evil", KubeAPIServerServing, evil, usagesOf(api), true),
		apiCSR("pending", KubeAPIServerServing, csrFor(t, api), usagesOf(api), false),
		apiCSR("builtin", certv1.KubeAPIServerClientSignerName, csrFor(t, profile(t, "admin")), usagesOf(profile(t, "admin")), true),
		apiCSR("conflict", KubeAPIServerServing, csrFor(t, api), usagesOf(api), true),
	}
	exp := int32(3600)
	objs[0].(*certv1.CertificateSigningRequest).Spec.ExpirationSeconds = &exp
	client := fake.NewClientset(objs...)
	var conflicts atomic.Int32
	client.PrependReactor("update", "certificatesigningrequests", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.UpdateAction)
		if u.GetSubresource() == "status" && u.GetObject().(*certv1.CertificateSigningRequest).Name == "conflict" && conflicts.Add(1) == 1 {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}, "conflict", nil)
		}
		return false, nil, nil
	})
	metrics := NewMetrics()
	startController(t, ControllerOptions{Client: client, CAs: cas, Policy: testPolicy(t, PolicyOptions{}),
		Now: func() time.Time { return testNow }, Metrics: metrics, Workers: 3})
	ctx := t.Context()

	get := func(name string) *certv1.CertificateSigningRequest {
		csr, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return csr
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if State(get("apiserver")) == "Issued" && State(get("front-proxy")) == "Issued" && State(get("etcd-peer")) == "Issued" &&
			State(get("conflict")) == "Issued" && State(get("evil")) == "Failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done in time: apiserver %s, front-proxy %s, etcd-peer %s, conflict %s, evil %s",
				State(get("apiserver")), State(get("front-proxy")), State(get("etcd-peer")), State(get("conflict")), State(get("evil")))
		}
		time.Sleep(20 * time.Millisecond)
	}

	for name, ca := range map[string]*CA{"apiserver": cas[pki.CAName].Current(), "front-proxy": cas[pki.FrontProxyCAName].Current(), "etcd-peer": cas[pki.EtcdCAName].Current(), "conflict": cas[pki.CAName].Current()} {
		certs, err := pki.ParseCerts(get(name).Status.Certificate)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := pki.VerifySignedBy(certs[0], nil, ca.Cert, testNow); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if name == "apiserver" && !certs[0].NotAfter.Equal(testNow.Add(time.Hour)) {
			t.Errorf("apiserver NotAfter %v, want expirationSeconds honoured: %v", certs[0].NotAfter, testNow.Add(time.Hour))
		}
	}
	var failed *certv1.CertificateSigningRequestCondition
	for i, cond := range get("evil").Status.Conditions {
		if cond.Type == certv1.CertificateFailed {
			failed = &get("evil").Status.Conditions[i]
		}
	}
	if failed == nil || failed.Reason != policy.ReasonSANNotAllowed || !strings.Contains(failed.Message, "evil.example.com") {
		t.Errorf("evil's Failed condition = %+v", failed)
	}
	if s := State(get("pending")); s != "Pending" {
		t.Errorf("unapproved CSR is %s", s)
	}
	if s := State(get("builtin")); s != "Approved" {
		t.Errorf("kubernetes.io CSR is %s: certctl's signer must leave it to kube-controller-manager", s)
	}
	if conflicts.Load() < 2 {
		t.Errorf("the conflicting update was tried %d times, want a retry", conflicts.Load())
	}
	body := assertSamples(t, metrics,
		`certctl_signer_csrs_signed_total{signer_name="certctl.io/kube-apiserver-serving"} 2`,
		`certctl_signer_csrs_signed_total{signer_name="certctl.io/front-proxy-client"} 1`,
		`certctl_signer_csrs_failed_total{signer_name="certctl.io/kube-apiserver-serving",reason="SANNotAllowed"} 1`,
		`certctl_signer_csrs_queued 0`,
		`certctl_signer_retries_total 1`,
	)
	// SANNotAllowed is the only failure: no series of another reason.
	if mfs, err := promtest.Parse(body); err != nil || len(mfs["certctl_signer_csrs_failed_total"].GetMetric()) != 1 {
		t.Errorf("/metrics: %v, want one series of failed CSRs:\n%s", err, body)
	}
	srv := httptest.NewServer(Handler(metrics, func() error { return nil }, func() error { return nil }))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}
