package signer

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	certsv1client "k8s.io/client-go/kubernetes/typed/certificates/v1"

	"github.com/certctl/certctl/pki"
)

// ctxClient fails a CSR status write whose context has ended, as a real
// client does (the fake ignores the context), after calling beforeWrite:
// a test stops the controller there, a write in flight.
type ctxClient struct {
	kubernetes.Interface
	beforeWrite func()
}

// IsWatchListSemanticsUnSupported is the fake's: its watch sends no
// bookmark, so the informer must list first.
func (c ctxClient) IsWatchListSemanticsUnSupported() bool { return true }

func (c ctxClient) CertificatesV1() certsv1client.CertificatesV1Interface {
	return ctxCerts{c.Interface.CertificatesV1(), c.beforeWrite}
}

type ctxCerts struct {
	certsv1client.CertificatesV1Interface
	beforeWrite func()
}

func (c ctxCerts) CertificateSigningRequests() certsv1client.CertificateSigningRequestInterface {
	return ctxCSRs{c.CertificatesV1Interface.CertificateSigningRequests(), c.beforeWrite}
}

type ctxCSRs struct {
	certsv1client.CertificateSigningRequestInterface
	beforeWrite func()
}

func (c ctxCSRs) UpdateStatus(ctx context.Context, csr *certv1.CertificateSigningRequest, o metav1.UpdateOptions) (*certv1.CertificateSigningRequest, error) {
	c.beforeWrite()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("put certificatesigningrequests/%s/status: %w", csr.Name, err)
	}
	return c.CertificateSigningRequestInterface.UpdateStatus(ctx, csr, o)
}

// TestControllerStopFinishesInFlight: SIGTERM while signing (Run's context
// ends during a CSR's status write) lets that CSR's write finish, as
// docs/exit-codes.md says of signer run, and takes no more CSRs from the
// queue: the others wait, approved, for the next signer.
func TestControllerStopFinishesInFlight(t *testing.T) {
	api := profile(t, "apiserver")
	var objs []runtime.Object
	for i := range 20 {
		objs = append(objs, apiCSR(fmt.Sprintf("csr-%02d", i), KubeAPIServerServing, csrFor(t, api), usagesOf(api), true))
	}
	fc := fake.NewClientset(objs...)
	ctx, stop := context.WithCancel(t.Context())
	var once sync.Once
	var writes atomic.Int32
	client := ctxClient{Interface: fc, beforeWrite: func() { writes.Add(1); once.Do(stop) }}
	c, err := NewController(ControllerOptions{Client: client, Workers: 1,
		CAs:    map[string]CAProvider{pki.CAName: newTestCA(t, "kubernetes", testNow.Add(365*24*time.Hour))},
		Policy: testPolicy(t, PolicyOptions{}), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	list, err := fc.CertificatesV1().CertificateSigningRequests().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var issued []string
	for _, csr := range list.Items {
		if len(csr.Status.Certificate) > 0 {
			issued = append(issued, csr.Name)
		}
	}
	if len(issued) != 1 || writes.Load() != 1 {
		t.Errorf("issued %v with %d status writes, want the one CSR being written when the signer was stopped, and no other taken from the queue", issued, writes.Load())
	}
}
