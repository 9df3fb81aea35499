package signer

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

func TestAPIHint(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}, "csr-1", errors.New("no"))
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("get CSR csr-1: %w", forbidden), "lacks the rights of the approver role: grant them as docs/signer.md shows"},
		{&url.Error{Op: "Get", URL: "https://127.0.0.1:6443", Err: x509.UnknownAuthorityError{}}, "the API server's certificate is not signed by a CA of --kubeconfig (certificate-authority-data)"},
		{fmt.Errorf("get CSR csr-1: %w", apierrors.NewUnauthorized("Unauthorized")), "Unauthorized: the API server did not accept the kubeconfig's credentials"},
		{fmt.Errorf("get CSR csr-1: %w", apierrors.NewServiceUnavailable("the server is shutting down")), "the server is shutting down: the API server is busy or restarting: run the same command again"},
		{fmt.Errorf("get CSR csr-1: %w", apierrors.NewTooManyRequests("too many requests", 1)), "the API server is busy or restarting"},
		{errors.New("other"), "other"},
	} {
		if got := APIHint(tt.err, "approver").Error(); !strings.Contains(got, tt.want) {
			t.Errorf("APIHint(%v) = %q, want it to say %q", tt.err, got, tt.want)
		}
	}
	if APIHint(nil, "approver") != nil {
		t.Error("APIHint(nil) is not nil")
	}
}

// TestEach: every CSR is tried even when one fails, each failure is
// printed, and the error counts them; with one name its error is the
// command's own.
func TestEach(t *testing.T) {
	fail := func(name string) error {
		if name == "b" || name == "only" {
			return errors.New("no fit for " + name)
		}
		return nil
	}
	for _, tc := range []struct {
		names         []string
		tried         string
		wantErr, logs string
	}{
		{[]string{"a", "b", "c"}, "abc", "1 of 3 CSR(s) not approved, each listed above with the reason: b", "[approve] CSR b not approved: no fit for b\n"},
		{[]string{"a", "c"}, "ac", "", ""},
		{[]string{"only"}, "only", "no fit for only", ""},
	} {
		var tried strings.Builder
		var errOut strings.Builder
		err := Each(&errOut, "approve", "approved", tc.names, func(n string) error {
			tried.WriteString(n)
			return fail(n)
		})
		if tried.String() != tc.tried {
			t.Errorf("%v: tried %q", tc.names, tried.String())
		}
		if (err == nil) != (tc.wantErr == "") || err != nil && err.Error() != tc.wantErr {
			t.Errorf("%v: error %v, want %q", tc.names, err, tc.wantErr)
		}
		if errOut.String() != tc.logs {
			t.Errorf("%v: stderr %q, want %q", tc.names, errOut.String(), tc.logs)
		}
	}
}

// TestBatchFromNode: with FromNode, only the CSRs Of says are the node's
// are acted on; one it cannot tell is left alone with one line naming it,
// why, and the command to run by name, and the exit status says so; with
// nothing but such CSRs, nothing is done.
func TestBatchFromNode(t *testing.T) {
	api := profile(t, "apiserver")
	req := csrFor(t, api)
	of := func(c *certv1.CertificateSigningRequest) (string, error) {
		switch {
		case strings.HasSuffix(c.Name, "-unclear"):
			return "", errors.New("its request cannot tell")
		case strings.HasPrefix(c.Name, "cp-"):
			return c.Name, nil
		}
		return "", nil
	}
	for _, tc := range []struct {
		csrs, denied []string
		wantErr      string
	}{
		{[]string{"cp-a", "cp-b", "cp-unclear", "other"}, []string{"cp-a", "cp-b"},
			"1 CSR(s) named as node cp's left alone, each listed above: check them, and deny by name those that are"},
		{[]string{"cp-unclear", "other"}, nil, `no pending CSR is certainly node "cp"'s: 1 left alone, each listed above`},
	} {
		var objs []runtime.Object
		for _, n := range tc.csrs {
			objs = append(objs, apiCSR(n, KubeAPIServerServing, req, usagesOf(api), false))
		}
		client := fake.NewClientset(objs...)
		var out, errOut strings.Builder
		err := DenyAll(context.Background(), client, "NotScheduled", "", testNow, Batch{FromNode: "cp", Of: of, Out: &out, ErrOut: &errOut})
		if err == nil || err.Error() != tc.wantErr {
			t.Errorf("%v: error %v, want %q", tc.csrs, err, tc.wantErr)
		}
		wantLine := "[deny] CSR cp-unclear left alone: it may not be node cp's: its request cannot tell; check it, and if it is, deny it by name (certctl deny cp-unclear --reason REASON)\n"
		if errOut.String() != wantLine {
			t.Errorf("%v: stderr %q, want %q", tc.csrs, errOut.String(), wantLine)
		}
		for _, n := range tc.csrs {
			denied := len(conditions(t, client, n)) > 0
			if denied != slices.Contains(tc.denied, n) {
				t.Errorf("%v: CSR %s denied: %v", tc.csrs, n, denied)
			}
		}
	}
}

// TestBatchFromNodeNoneNamesLowerCase: with no pending CSR of the node, the
// hint spells the names renew makes, which are lower-cased: a node name
// typed as the host name shows (CP-1) must not send the operator looking
// for certctl-CP-1-....
func TestBatchFromNodeNoneNamesLowerCase(t *testing.T) {
	of := func(*certv1.CertificateSigningRequest) (string, error) { return "", nil }
	var out, errOut strings.Builder
	err := DenyAll(context.Background(), fake.NewClientset(), "NotScheduled", "", testNow, Batch{FromNode: "CP-1", Of: of, Out: &out, ErrOut: &errOut})
	want := "no pending CSR of node \"CP-1\": `certctl renew --use-api` on it names them certctl-cp-1-CERTIFICATE-KEYHASH; check the name with kubectl get csr"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestApproveAllOneLinePerCSR: spec.username is the requester's name as
// its authenticator gave it (an OIDC claim may hold a line break); the
// line approve prints for a CSR quotes it rather than letting it forge
// a line of its own.
func TestApproveAllOneLinePerCSR(t *testing.T) {
	csr := apiCSR("csr-1", "example.com/serving", csrFor(t, profile(t, "apiserver")), []certv1.KeyUsage{certv1.UsageServerAuth}, false)
	csr.Spec.Username = "mallory\n[approve] CSR csr-2 approved"
	client := fake.NewClientset([]runtime.Object{csr}...)
	var out, errOut strings.Builder
	err := ApproveAll(context.Background(), client, ApproveOptions{Force: true}, Batch{Names: []string{"csr-1"}, Out: &out, ErrOut: &errOut})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, `"mallory\n[approve] CSR csr-2 approved"`) {
		t.Errorf("approve printed %q, want one line with the username quoted", got)
	}
}

// TestSignWithOneLine: the subject and SANs of the certificate `certctl
// sign` prints come from the CSR, whose requester chose them: a CN, an O
// or a DNS SAN may hold a line break (UTF8String, IA5String). The line
// sign prints quotes them, as approve quotes the requester's name
// (TestApproveAllOneLinePerCSR), rather than letting them forge a line.
func TestSignWithOneLine(t *testing.T) {
	later := time.Now().Add(30 * 24 * time.Hour)
	s := pki.Store{Dir: t.TempDir()}
	writePair(t, s, newTestCA(t, "example CA", later))
	const custom = "example.com/client"
	for _, c := range []struct {
		name string
		req  *x509.CertificateRequest
		want string
	}{
		{"CN", &x509.CertificateRequest{Subject: pkix.Name{CommonName: "app\n[sign] CSR r2 signed"}}, `"CN=app\n[sign] CSR r2 signed"`},
		{"O", &x509.CertificateRequest{Subject: pkix.Name{CommonName: "app", Organization: []string{"team\r[sign] CSR r2 signed"}}}, `"CN=app,O=team\r[sign] CSR r2 signed"`},
		{"DNS SAN", &x509.CertificateRequest{Subject: pkix.Name{CommonName: "app"}, DNSNames: []string{"app.example\n[sign] CSR r2 signed"}}, `"app.example\n[sign] CSR r2 signed"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			client := fake.NewClientset([]runtime.Object{apiCSR("r", custom, csrWith(t, c.req, nil), []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth}, true)}...)
			var out, errOut strings.Builder
			err := SignWith(context.Background(), func() (kubernetes.Interface, error) { return client, nil },
				func() (*config.Cluster, error) {
					t.Fatal("the node's settings read for a custom name")
					return nil, nil
				},
				NodeRules{}, "r", SignFiles{CACert: s.CertPath("ca"), CAKey: s.KeyPath("ca"), Now: time.Now(), Out: &out, ErrOut: &errOut})
			if err != nil {
				t.Fatalf("sign: %v\n%s", err, errOut.String())
			}
			if got := out.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, c.want) {
				t.Errorf("sign printed %q, want one line with %s", got, c.want)
			}
		})
	}
}
