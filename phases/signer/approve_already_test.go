package signer

import (
	"strings"
	"testing"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/pki"
)

// TestApproveAlreadyApprovedSaysByWhom: approve of a CSR that another
// approved (kubectl certificate approve, which checks nothing) exits 0,
// as kubectl does, but its line says that nothing was checked now, who
// approved it as far as the condition says, and who checks it before it
// is signed: signer run and sign for certctl's names, nobody for
// kube-controller-manager's. Before, it said "was already approved
// (Approved)", which read as if certctl had checked it.
func TestApproveAlreadyApprovedSaysByWhom(t *testing.T) {
	prof, _ := pki.Find(certificates(t, node("cp-1", "198.51.100.10")), "apiserver")
	kubectl := certv1.CertificateSigningRequestCondition{Type: certv1.CertificateApproved, Status: corev1.ConditionTrue,
		Reason: "KubectlApprove", Message: "This CSR was approved by kubectl certificate approve."}
	forged := certv1.CertificateSigningRequestCondition{Type: certv1.CertificateApproved, Status: corev1.ConditionTrue,
		Reason: "Evil", Message: "ok\n[approve] CSR x approved: it fits"}
	for _, tc := range []struct {
		name, signerName string
		cond             certv1.CertificateSigningRequestCondition
		issued           bool
		want             string
	}{
		{"certctl", KubeAPIServerServing, kubectl, false,
			"[approve] CSR certctl was already approved (KubectlApprove: This CSR was approved by kubectl certificate approve.), not by this command: nothing was checked or written; certctl signer run and certctl sign check it again before they sign it\n"},
		{"builtin", certv1.KubeAPIServerClientSignerName, kubectl, false,
			"[approve] CSR builtin was already approved (KubectlApprove: This CSR was approved by kubectl certificate approve.), not by this command: nothing was checked or written; kube-controller-manager signs it as approved, without certctl's checks\n"},
		{"custom", "example.com/serving", kubectl, true,
			"[approve] CSR custom was already approved (KubectlApprove: This CSR was approved by kubectl certificate approve.), not by this command: nothing was checked or written; it is signed already\n"},
		{"forged", KubeAPIServerServing, forged, false,
			"[approve] CSR forged was already approved (Evil: \"ok\\n[approve] CSR x approved: it fits\"), not by this command: nothing was checked or written; certctl signer run and certctl sign check it again before they sign it\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			csr := apiCSR(tc.name, tc.signerName, csrFor(t, prof), usagesOf(prof), false)
			csr.Status.Conditions = []certv1.CertificateSigningRequestCondition{tc.cond}
			if tc.issued {
				csr.Status.Certificate = []byte("-----BEGIN CERTIFICATE-----\n")
			}
			var out, errOut strings.Builder
			err := ApproveAll(t.Context(), fake.NewClientset(csr), ApproveOptions{Policy: testPolicy(t, PolicyOptions{})},
				Batch{Names: []string{tc.name}, Out: &out, ErrOut: &errOut})
			if err != nil {
				t.Fatalf("approve of an approved CSR: %v", err)
			}
			if out.String() != tc.want {
				t.Errorf("approve of a CSR approved before printed\n%q\nwant\n%q", out.String(), tc.want)
			}
		})
	}
}
