// Package apirenew renews a control-plane node's certificates through the
// certificates.k8s.io/v1 API: for each certificate a new key, a
// CertificateSigningRequest with the existing certificate's subject, SANs
// and usages, a wait (a watch, through client-go's util/certificate/csr)
// until it is approved and issued, then the certificate goes back to
// package renewal, which verifies it and installs it in the same
// crash-safe transaction as an on-disk renewal.
//
// kubeadm did this until v1.18 (`kubeadm certs renew --use-api`, on
// certificates.k8s.io/v1beta1) and dropped it in v1.19
// (https://github.com/kubernetes/kubeadm/issues/2047): under v1 the
// built-in signer issues only kube-apiserver-client,
// kube-apiserver-client-kubelet and kubelet-serving certificates. Here the
// cluster CA's client certificates go to the built-in
// kubernetes.io/kube-apiserver-client, and the rest to certctl's own signer
// names (package signer), which `certctl signer run` issues.
package apirenew

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	certv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

// DefaultSignerName is the signer name that issues the certificate called
// name (renewal's names: "apiserver", "admin.conf"):
// kubernetes.io/kube-apiserver-client for the cluster CA's client
// certificates the built-in signer may issue (the inventory's Builtin; not
// super-admin.conf, whose O=system:masters the API server refuses for it), and certctl's signer name for
// the CA and purpose of every other one (signer.ForCertificate), including
// super-admin.conf.
//
// t's inventory row says which (renewal.TargetOf); a Target made by name
// only is looked up in kubeadm's inventory.
func DefaultSignerName(t renewal.Target) (string, error) {
	if t.Signer == "" && t.Builtin == "" {
		if e, ok := pki.Kubeadm().Find(t.Name); ok && e.CertName() == t.Name {
			t.Signer, t.Builtin = e.Signer, e.Builtin
		}
	}
	if t.Builtin == certv1.KubeAPIServerClientSignerName {
		return t.Builtin, nil
	}
	if t.Signer != "" {
		return t.Signer, nil
	}
	return signer.ForCertificate(t.Name)
}

// SignerNames returns the signer name of each target: the override named
// after it (--signer-name NAME=SIGNER, or signerNames in the configuration
// file), else DefaultSignerName. An override for a name that is not a
// renewable certificate, or that is not a signer name, is an error.
func SignerNames(targets []renewal.Target, overrides map[string]string) (map[string]string, error) {
	known := renewal.Names()[1:]
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		if !slices.Contains(known, k) {
			return nil, fmt.Errorf("signer name for %q: not a certificate certctl renews; use one of %s", k, strings.Join(known, ", "))
		}
		if err := ValidateSignerName(overrides[k]); err != nil {
			return nil, fmt.Errorf("signer name for %s: %w", k, err)
		}
	}
	out := map[string]string{}
	for _, t := range targets {
		if s, ok := overrides[t.Name]; ok {
			out[t.Name] = s
			continue
		}
		s, err := DefaultSignerName(t)
		if err != nil {
			return nil, err
		}
		out[t.Name] = s
	}
	return out, nil
}

// signerNameRE is the shape the API server accepts: a DNS subdomain, a
// slash, and a path (pkg/apis/certificates/validation, ValidateSignerName).
var signerNameRE = regexp.MustCompile(`^[^/]+/[^/].*$`)

// ValidateSignerName checks that s looks like a signer name, DOMAIN/PATH.
func ValidateSignerName(s string) error {
	if !signerNameRE.MatchString(s) {
		return fmt.Errorf("%q is not a signer name: want DOMAIN/PATH, for example %s", s, signer.KubeAPIServerServing)
	}
	domain, _, _ := strings.Cut(s, "/")
	if errs := validation.IsDNS1123Subdomain(domain); len(errs) > 0 {
		return fmt.Errorf("%q is not a signer name: its domain %q: %s", s, domain, strings.Join(errs, "; "))
	}
	return nil
}

// CheckSigner refuses, before any CSR is created, a signer name that
// cannot issue the certificate of req:
//   - kubernetes.io/kube-apiserver-client for O=system:masters
//     (super-admin.conf): the API server refuses such a CSR;
//   - kubernetes.io/kube-apiserver-client for a certificate that is not
//     for client auth only: kube-controller-manager fails it;
//   - the other kubernetes.io names, which issue kubelet certificates only.
func CheckSigner(req renewal.Request, signerName string) error {
	switch {
	case signerName == certv1.KubeAPIServerClientSignerName:
		if slices.Contains(req.Profile.Organization, pki.MastersGroup) {
			return fmt.Errorf("%s has O=%s, which the API server refuses for %s (%s bypasses all authorization): renew it with certctl's signer (the default, %s, issued by `certctl signer run --allow-system-masters`), or from the CA on disk without --use-api",
				req.Name, pki.MastersGroup, signerName, req.Name, signer.KubeAPIServerClient)
		}
		if !slices.Equal(req.Profile.ExtKeyUsages, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
			return fmt.Errorf("%s is not a client-only certificate: %s issues only client certificates; use certctl's signer name for it", req.Name, signerName)
		}
	case strings.HasPrefix(signerName, "kubernetes.io/"):
		return fmt.Errorf("%s cannot issue %s: of the built-in signer names only %s issues control-plane certificates", signerName, req.Name, certv1.KubeAPIServerClientSignerName)
	}
	return nil
}

// CSRName is the CertificateSigningRequest's name for the certificate
// called target on node, requested with key pub:
// certctl-NODE-TARGET-FINGERPRINT, the fingerprint being the first 12 hex
// digits of the SHA-256 of the public key. The same node, certificate and
// key always give the same name, so that a run that was stopped finds its
// CSR again; a new key gives a new CSR.
func CSRName(node, target string, pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("name CSR for %s: %w", target, err)
	}
	sum := sha256.Sum256(der)
	target = sanitize(target)
	// A DNS subdomain has at most 253 characters; node names are at most
	// that long themselves.
	name := "certctl-" + nodePart(node, target) + "-" + target + "-" + hex.EncodeToString(sum[:])[:fingerprintLen]
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return "", fmt.Errorf("name CSR for %s: %q: %s", target, name, strings.Join(errs, "; "))
	}
	return name, nil
}

// fingerprintLen is the length of the key's fingerprint in CSRName.
const fingerprintLen = 12

// nameReading is one way to read a CSR name CSRName made: the node as
// the name carries it (nodePart), and the certificate.
type nameReading struct{ part, target string }

// readNames returns every (node part, target) among targets that CSRName
// could have made name from, whatever the node and the key. A name may
// have several: certctl-cp-super-admin.conf-KEYHASH is node cp's
// super-admin.conf and node cp-super's admin.conf.
func readNames(name string, targets []string) []nameReading {
	rest, ok := strings.CutPrefix(name, "certctl-")
	if !ok || len(rest) <= fingerprintLen {
		return nil
	}
	body, fp := rest[:len(rest)-fingerprintLen], rest[len(rest)-fingerprintLen:]
	if strings.Trim(fp, "0123456789abcdef") != "" {
		return nil
	}
	var out []nameReading
	for _, t := range targets {
		if part, ok := strings.CutSuffix(body, "-"+sanitize(t)+"-"); ok && part != "" {
			out = append(out, nameReading{part, t})
		}
	}
	return out
}

// nodePart is node as CSRName carries it in the names of target's CSRs:
// lower-cased, other characters than a-z, 0-9, '-' and '.' replaced, and
// cut to fit a name's 253 characters.
func nodePart(node, target string) string {
	node = sanitize(node)
	if room := nodeRoom(target); len(node) > room {
		node = strings.Trim(node[:room], "-.")
	}
	return node
}

// nodeRoom is the length CSRName keeps of a node name in the names of
// target's CSRs.
func nodeRoom(target string) int {
	return validation.DNS1123SubdomainMaxLength - len("certctl---") - len(sanitize(target)) - fingerprintLen
}

// partIsNode reports whether the names of target's CSRs carry node alone:
// nodePart leaves it as it is (so it is a Kubernetes node name), and no
// longer Kubernetes node name is cut to it. Cut and trimmed of its last '-'
// and '.', such a name keeps more than nodeRoom less a DNS label's 63
// characters. Names that differ only in characters a Kubernetes node name
// cannot have (CP_1, cp-1) are one node to certctl.
func partIsNode(node, target string) bool {
	return nodePart(node, target) == node && len(node) <= nodeRoom(target)-validation.DNS1123LabelMaxLength
}

var notNameChar = regexp.MustCompile(`[^a-z0-9.-]+`)

func sanitize(s string) string {
	return strings.Trim(notNameChar.ReplaceAllString(strings.ToLower(s), "-"), "-.")
}

// Usages are the usages to request for a new certificate like cur: digital
// signature, key encipherment when cur has it (kubeadm sets both), and
// cur's extended key usages.
func Usages(cur *x509.Certificate) ([]certv1.KeyUsage, error) {
	u := []certv1.KeyUsage{certv1.UsageDigitalSignature}
	if cur.KeyUsage&x509.KeyUsageKeyEncipherment != 0 {
		u = append(u, certv1.UsageKeyEncipherment)
	}
	for _, e := range cur.ExtKeyUsage {
		switch e {
		case x509.ExtKeyUsageServerAuth:
			u = append(u, certv1.UsageServerAuth)
		case x509.ExtKeyUsageClientAuth:
			u = append(u, certv1.UsageClientAuth)
		default:
			return nil, fmt.Errorf("extended key usage %s of %q is not one of a control-plane certificate", pki.UsageName(e), cur.Subject.CommonName)
		}
	}
	return u, nil
}
