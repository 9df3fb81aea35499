package apirenew

import (
	"context"
	"strings"
	"sync"
	"testing"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/phases/renewal"
)

// TestDeniedLastSaysNoOthers: the line of a denied CSR says the others go
// on only while others are still waited for. Before, the last CSR of a
// batch, or the only one, was followed by "the others go on" too, when
// there were none and the run was about to fail.
func TestDeniedLastSaysNoOthers(t *testing.T) {
	cs, ca := fakeClient(), newTestCA(t)
	is, out := newIssuer(t, cs, t.TempDir(), nil)
	reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile), ca.request(t, "super-admin.conf", adminProfile)}
	names := map[string]string{}
	var mu sync.Mutex
	created := whenCreated(t, cs, 2, func(n string) {
		mu.Lock()
		defer mu.Unlock()
		names[strings.TrimPrefix(n[:strings.LastIndex(n, "-")], "certctl-cp-1-")] = n
	})
	errc := make(chan error, 1)
	go func() { errc <- is.Obtain(context.Background(), reqs) }()
	created()
	saw := func(want string) {
		t.Helper()
		waitFor(t, "output line "+want, func() bool { return strings.Contains(out.String(), want) })
	}
	decide(t, cs, names["admin.conf"], certv1.CertificateDenied, nil)
	saw("for admin.conf was denied (reason \"TestReason\": test message): it will not be installed; the others go on\n")
	decide(t, cs, names["super-admin.conf"], certv1.CertificateDenied, nil)
	saw("for super-admin.conf was denied (reason \"TestReason\": test message): it will not be installed\n")
	if err := <-errc; err == nil {
		t.Fatal("Obtain of two denied CSRs: no error")
	}
}
