package signer

import (
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// hasCondition reports whether csr has a condition of type t with status True.
func hasCondition(csr *certv1.CertificateSigningRequest, t certv1.RequestConditionType) bool {
	return slices.ContainsFunc(csr.Status.Conditions, func(c certv1.CertificateSigningRequestCondition) bool {
		return c.Type == t && c.Status == corev1.ConditionTrue
	})
}

// condition is a condition of type t with status True, set at now.
func condition(t certv1.RequestConditionType, reason, msg string, now time.Time) certv1.CertificateSigningRequestCondition {
	return certv1.CertificateSigningRequestCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg, LastUpdateTime: metav1.NewTime(now)}
}

// IsApproved reports whether csr is approved and not denied.
func IsApproved(csr *certv1.CertificateSigningRequest) bool {
	return hasCondition(csr, certv1.CertificateApproved) && !hasCondition(csr, certv1.CertificateDenied)
}

// IsDenied reports whether csr has a Denied condition.
func IsDenied(csr *certv1.CertificateSigningRequest) bool {
	return hasCondition(csr, certv1.CertificateDenied)
}

// IsFailed reports whether csr has a Failed condition.
func IsFailed(csr *certv1.CertificateSigningRequest) bool {
	return hasCondition(csr, certv1.CertificateFailed)
}

// State describes where csr is in its life: "Issued", "Failed", "Denied",
// "Approved" or "Pending".
func State(csr *certv1.CertificateSigningRequest) string {
	switch {
	case len(csr.Status.Certificate) > 0:
		return "Issued"
	case IsFailed(csr):
		return "Failed"
	case IsDenied(csr):
		return "Denied"
	case IsApproved(csr):
		return "Approved"
	}
	return "Pending"
}

// ParseRequest decodes the PKCS#10 request of csr and checks its
// self-signature: the proof that the requester holds the private key of
// the public key to be certified.
func ParseRequest(csr *certv1.CertificateSigningRequest) (*x509.CertificateRequest, error) {
	req, err := pki.ParseCSR(csr.Spec.Request)
	if err != nil {
		return nil, fmt.Errorf("CSR %s: %w (proof of possession)", csr.Name, err)
	}
	return req, nil
}

// requestOf is what the issuance policy checks of csr, whose request is
// req, when usages are issued.
func requestOf(csr *certv1.CertificateSigningRequest, req *x509.CertificateRequest, usages []certv1.KeyUsage) policy.Request {
	return policy.Request{SignerName: csr.Spec.SignerName, CSR: req, Usages: usages, Approved: IsApproved(csr),
		Username: csr.Spec.Username, Groups: csr.Spec.Groups}
}
