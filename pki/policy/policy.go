// Package policy is certctl's one issuance policy: the rules every path
// that issues, approves, imports or renews a certificate applies (issue 13).
// It only judges; callers read, sign and write.
package policy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"
	"strings"
	"time"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/pki"
)

// Reasons of a Violation: the reason of the Failed condition a signer sets
// and a label of its failure metric.
const (
	ReasonUnknownSigner        = "UnknownSignerName"
	ReasonInvalidRequest       = "InvalidRequest"
	ReasonKeyNotAllowed        = "KeyNotAllowed"
	ReasonCARequested          = "CARequested"
	ReasonSubjectNotAllowed    = "SubjectNotAllowed"
	ReasonSystemMastersRefused = "SystemMastersRefused"
	ReasonSANNotAllowed        = "SANNotAllowed"
	ReasonUsageNotAllowed      = "UsageNotAllowed"
	ReasonRequesterNotAllowed  = "RequesterNotAllowed"
	ReasonNotApproved          = "NotApproved"
	ReasonValidityNotAllowed   = "ValidityNotAllowed"
)

// Violation is something the policy refuses: Reason is one of the Reason
// constants, Message says what is wrong and what to do.
type Violation struct {
	Reason  string
	Message string
}

func (v *Violation) Error() string { return v.Message }

// MinValidity is the shortest validity certctl issues for: a certificate
// that expires before anyone can install it is a mistake ("expiry": "1ns").
const MinValidity = time.Hour

// Key refuses a public key weaker than certctl accepts: RSA below 2048
// bits, ECDSA on a curve other than P-256, P-384 and P-521, Ed25519 unless
// ed25519OK (the component using the certificate must accept it), and any
// other type. what names the key ("the key of CSR x", a file).
func Key(what string, pub crypto.PublicKey, ed25519OK bool) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() >= 2048 {
			return nil
		}
		return keyViolation(what, fmt.Sprintf("RSA-%d", k.N.BitLen()))
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return keyViolation(what, "ECDSA "+k.Curve.Params().Name)
	case ed25519.PublicKey:
		if ed25519OK {
			return nil
		}
		return keyViolation(what, "Ed25519")
	}
	return keyViolation(what, pki.DescribeKey(pub))
}

func keyViolation(what, key string) error {
	return &Violation{ReasonKeyNotAllowed, fmt.Sprintf("%s is %s, which certctl refuses: use RSA of at least 2048 bits (RSA-2048) or ECDSA P-256, P-384 or P-521", what, key)}
}

// Validity refuses a configured certificate validity (a flag, a signing
// configuration's expiry) shorter than MinValidity.
func Validity(what string, d time.Duration) error {
	if d < MinValidity {
		return &Violation{ReasonValidityNotAllowed, fmt.Sprintf("%s %s is shorter than %s, certctl's minimum: certificates would expire before they are used", what, d, MinValidity)}
	}
	return nil
}

// Rules are the choices of whoever runs a signer.
type Rules struct {
	// AllowSystemMasters lets a certificate with O=system:masters be issued
	// or approved, and then only for an allowed requester.
	AllowSystemMasters bool
	// RequesterGroups and RequesterUsers may ask for privileged
	// certificates. When both are empty, nobody may.
	RequesterGroups, RequesterUsers []string
}

// Requester reports a *Violation unless the CSR's requester (spec.username
// and spec.groups, set by the API server and not forgeable) is allowed.
func (r Rules) Requester(username string, groups []string) error {
	if slices.Contains(r.RequesterUsers, username) || slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(r.RequesterGroups, g) }) {
		return nil
	}
	return &Violation{ReasonRequesterNotAllowed, fmt.Sprintf("requested by user %q (groups %q), who may not ask for control-plane certificates: allowed are groups %q and users %q (--requester-group, --requester-user)", username, groups, r.RequesterGroups, r.RequesterUsers)}
}

// Request is a CertificateSigningRequest as the policy sees it.
type Request struct {
	SignerName string
	CSR        *x509.CertificateRequest // its signature checked by the caller
	Usages     []certv1.KeyUsage        // the usages that will be issued
	Approved   bool
	Username   string
	Groups     []string
	// ControlPlane names the control-plane certificate the request is for
	// (one of certctl's signer names: it fits that certificate's profile),
	// "" for another signer name. Such a certificate is signed only for an
	// allowed requester (Rules.Requester), as `certctl approve` approves it.
	ControlPlane string
}

// CheckSign applies the rules every request certctl signs must pass,
// whatever its signer name: the signer name is not one of
// kube-controller-manager's (kubernetes.io/*), the CSR is approved, and
// CheckRequest; and for a control-plane certificate (q.ControlPlane), an
// allowed requester, whoever approved it: `certctl approve` checks the
// requester, plain `kubectl certificate approve` does not, and the
// ordinary control-plane identities (system:kube-controller-manager, the
// etcd clients, apiserver-kubelet-client) are no less a credential than an
// admin's. It returns a *Violation.
func (r Rules) CheckSign(q Request) error {
	if strings.HasPrefix(q.SignerName, "kubernetes.io/") {
		return &Violation{ReasonUnknownSigner, fmt.Sprintf("signer name %q belongs to kube-controller-manager: certctl never signs kubernetes.io/* requests", q.SignerName)}
	}
	if !q.Approved {
		return &Violation{ReasonNotApproved, "the request is not approved: certctl never signs an unapproved request; approve it first (certctl approve, kubectl certificate approve)"}
	}
	if err := r.CheckRequest(q); err != nil {
		return err
	}
	if q.ControlPlane != "" {
		return r.ControlPlaneRequester(q)
	}
	return nil
}

// ControlPlaneRequester reports a *Violation (RequesterNotAllowed) unless
// the requester of q, a request for the control-plane certificate
// q.ControlPlane, is allowed (Requester).
func (r Rules) ControlPlaneRequester(q Request) error {
	if err := r.Requester(q.Username, q.Groups); err != nil {
		return &Violation{ReasonRequesterNotAllowed, fmt.Sprintf("the request is for the %s certificate, a control-plane credential, and it is %s", q.ControlPlane, err)}
	}
	return nil
}

// CheckRequest applies the rules on what a request asks for, checked when
// it is approved and again when it is signed: it does not ask for CA:TRUE;
// its key is strong enough; its subject has at most one CN; the usages are
// explicit, and none is "any"; O=system:masters only with r.AllowSystemMasters and for an
// allowed requester; and a subject that makes its holder an allowed
// requester (privileged) only for an allowed requester. It returns a
// *Violation.
func (r Rules) CheckRequest(q Request) error {
	if AsksForCA(q.CSR) {
		return &Violation{ReasonCARequested, "the request asks for CA:TRUE: certctl never issues a CA certificate"}
	}
	if err := Key("the request's public key", q.CSR.PublicKey, false); err != nil {
		return err
	}
	if n := commonNames(q.CSR); n > 1 {
		return &Violation{ReasonSubjectNotAllowed, fmt.Sprintf("the request's subject %q has %d CNs: certctl issues a certificate with at most one, as readers disagree on which of several is the name (Go takes the last, others the first); ask for one CN", q.CSR.Subject.String(), n)}
	}
	if len(q.Usages) == 0 {
		return &Violation{ReasonUsageNotAllowed, "the request has no usages: certctl never issues an unconstrained certificate; ask for explicit usages (spec.usages, or usages in the signing configuration)"}
	}
	for _, u := range q.Usages {
		if u == certv1.UsageCertSign || u == certv1.UsageCRLSign {
			return &Violation{ReasonCARequested, fmt.Sprintf("usage %q is refused: certctl never issues a CA certificate", u)}
		}
	}
	// Issued refuses it in what another CA issued; certctl's own signers
	// never issue it either, whatever the signer name.
	if slices.Contains(q.Usages, certv1.UsageAny) {
		return &Violation{ReasonUsageNotAllowed, fmt.Sprintf(`usage %q is refused: it lets a certificate serve and authenticate as anything; ask for the extended key usages it needs ("server auth", "client auth")`, certv1.UsageAny)}
	}
	return r.Privilege(q)
}

// Privilege applies the rules on a subject that grants power over the
// cluster, the part of CheckRequest that nothing skips, not even `certctl
// approve --force`: O=system:masters only with r.AllowSystemMasters and
// for an allowed requester (SystemMastersRefused); a subject that makes
// its holder an allowed requester (O=kubeadm:cluster-admins, the identity
// of kubeadm's admin.conf, bound to cluster-admin; one of
// r.RequesterGroups or r.RequesterUsers) only for an allowed requester
// (RequesterNotAllowed). kube-controller-manager signs what is approved
// for the kubernetes.io names without asking who asked: an approval of
// such a subject for anyone else makes them a cluster admin. It returns a
// *Violation.
func (r Rules) Privilege(q Request) error {
	if slices.Contains(q.CSR.Subject.Organization, pki.MastersGroup) {
		if !r.AllowSystemMasters {
			return &Violation{ReasonSystemMastersRefused, fmt.Sprintf("the request has O=%s, which bypasses all authorization; it is only issued or approved with --allow-system-masters", pki.MastersGroup)}
		}
		if err := r.Requester(q.Username, q.Groups); err != nil {
			v := err.(*Violation)
			return &Violation{ReasonSystemMastersRefused, "O=" + pki.MastersGroup + " " + v.Message}
		}
	}
	if who := r.privileged(q.CSR.Subject); who != "" {
		if err := r.Requester(q.Username, q.Groups); err != nil {
			return &Violation{ReasonRequesterNotAllowed, fmt.Sprintf("the request's %s makes its holder one who may ask for control-plane certificates, and it is %s", who, err)}
		}
	}
	return nil
}

// privileged names what of subject makes a certificate a control-plane
// credential, "" when nothing does: an O that is kubeadm:cluster-admins
// (bound to cluster-admin) or one of r.RequesterGroups, a CN that is one of
// r.RequesterUsers. Such a certificate is issued or approved only for a
// requester who is one already (r.Requester), whoever approved it: else an
// approval by plain `kubectl certificate approve` would make anyone who may
// create CSRs a cluster admin. O=system:masters has its own rule.
func (r Rules) privileged(subject pkix.Name) string {
	for _, o := range subject.Organization {
		if o != pki.MastersGroup && (o == pki.ClusterAdminsGroup || slices.Contains(r.RequesterGroups, o)) {
			return "O=" + o
		}
	}
	if slices.Contains(r.RequesterUsers, subject.CommonName) {
		return "CN=" + subject.CommonName
	}
	return ""
}

var (
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidCN               = asn1.ObjectIdentifier{2, 5, 4, 3}
)

// commonNames counts the CN attributes of req's subject.
func commonNames(req *x509.CertificateRequest) int { return countCN(req.Subject.Names) }

// countCN counts the CN attributes of a parsed subject's names.
func countCN(names []pkix.AttributeTypeAndValue) int {
	n := 0
	for _, a := range names {
		if a.Type.Equal(oidCN) {
			n++
		}
	}
	return n
}

// AsksForCA reports whether req asks for CA:TRUE, or has a basic
// constraints extension that cannot be read (refuse rather than guess).
func AsksForCA(req *x509.CertificateRequest) bool {
	for _, e := range req.Extensions {
		if !e.Id.Equal(oidBasicConstraints) {
			continue
		}
		var bc struct {
			IsCA       bool `asn1:"optional"`
			MaxPathLen int  `asn1:"optional,default:-1"`
		}
		if _, err := asn1.Unmarshal(e.Value, &bc); err != nil || bc.IsCA {
			return true
		}
	}
	return false
}

// KeyID is the subject key identifier of pub: the leftmost 160 bits of the
// SHA-256 of the subjectPublicKey bits (RFC 7093 section 2 method 1), as
// Go's x509.CreateCertificate computes a CA's since Go 1.25.
func KeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm asn1.RawValue
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(spki.Key.Bytes)
	return sum[:20], nil
}
