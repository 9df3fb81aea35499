package signer

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestAPIHint(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}, "csr-1", errors.New("no"))
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("get CSR csr-1: %w", forbidden), "lacks the rights of the approver role: grant them as docs/signer.md shows"},
		{&url.Error{Op: "Get", URL: "https://127.0.0.1:6443", Err: x509.UnknownAuthorityError{}}, "not signed by the CA in the kubeconfig's certificate-authority-data"},
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
