// Package signer issues the certificates of a kubeadm control plane through
// the certificates.k8s.io API: it approves and denies CertificateSigningRequests
// after checking them against the control-plane certificate they claim to
// be, signs them with the CA that certificate belongs to, and runs a
// controller that does so for every approved CSR of certctl's signer names.
//
// kube-controller-manager's built-in signer only issues client and kubelet
// certificates with the cluster CA. The API server serving certificate, the
// front-proxy client and the etcd certificates need other CAs or usages:
// certctl gives each CA and purpose its own signer name, so that RBAC can
// grant each one separately (verbs "approve" and "sign" on resource
// "signers", resourceName the signer name).
package signer

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/pki"
)

// certctl's signer names, one per CA and purpose: the Signer column of
// the inventory (pki.Kubeadm).
const (
	KubeAPIServerServing = pki.SignerKubeAPIServerServing
	KubeAPIServerClient  = pki.SignerKubeAPIServerClient
	FrontProxyClient     = pki.SignerFrontProxyClient
	EtcdServer           = pki.SignerEtcdServer
	EtcdPeer             = pki.SignerEtcdPeer
	EtcdClient           = pki.SignerEtcdClient
)

// Names lists certctl's signer names, sorted.
func Names() []string { return pki.Kubeadm().Signers() }

// IsCertctlName reports whether name is one of certctl's signer names.
func IsCertctlName(name string) bool { return slices.Contains(Names(), name) }

// inCertctlDomain reports whether name is of certctl's domain, whose names
// are certctl's alone: one that is none of Names (a typo of one) is never
// signed as a custom signer's, which would skip the control-plane profile.
func inCertctlDomain(name string) bool { return strings.HasPrefix(name, "certctl.io/") }

// ForCertificate returns the signer name that issues the certificate of
// certctl's inventory called name: a certificate's phase name ("apiserver")
// or a kubeconfig ("super-admin.conf", or "super-admin"). CAs and the
// service-account key pair have none: they cannot be requested through the
// API.
func ForCertificate(name string) (string, error) {
	inv := pki.Kubeadm()
	if e, ok := inv.Find(name); ok && e.Signer != "" {
		return e.Signer, nil
	} else if ok {
		return "", fmt.Errorf("signer: %q cannot be requested through the certificates API: a CA (or the sa key pair) is not issued by a signer", name)
	}
	var known []string
	for _, e := range inv {
		if e.Signer != "" {
			known = append(known, e.Name)
		}
	}
	sort.Strings(known)
	return "", fmt.Errorf("signer: unknown certificate %q: certctl's are %s (kubeconfigs with or without .conf)", name, strings.Join(known, ", "))
}

// CAFor returns the name of the CA (pki.CAName, pki.FrontProxyCAName,
// pki.EtcdCAName) whose key signs for signerName, or "" for a signer name
// certctl does not know. The built-in kubernetes.io names use the cluster CA.
func CAFor(signerName string) string {
	if signerName == certv1.KubeletServingSignerName {
		return pki.CAName
	}
	for _, e := range pki.Kubeadm() {
		if e.Signer == signerName || e.Builtin == signerName {
			return e.CAName
		}
	}
	return ""
}

// NamesHelp lists certctl's signer names, in the inventory's order,
// with what each issues and with which CA.
func NamesHelp() string {
	var order []string
	issues, ca := map[string][]string{}, map[string]string{}
	for _, e := range pki.Kubeadm().Select(false, pki.KindLeaf, pki.KindKubeconfig) {
		name := e.Name
		if e.Kind == pki.KindKubeconfig {
			name = "*.conf"
		}
		if !slices.Contains(issues[e.Signer], name) {
			issues[e.Signer] = append(issues[e.Signer], name)
		}
		if _, ok := ca[e.Signer]; !ok {
			order = append(order, e.Signer)
			ca[e.Signer] = strings.TrimSuffix(e.CAName, "-ca") + " CA"
			if e.CAName == pki.CAName {
				ca[e.Signer] = "cluster CA"
			}
		}
	}
	var b strings.Builder
	for _, s := range order {
		fmt.Fprintf(&b, "  %-35s%s (%s)\n", s, strings.Join(issues[s], ", "), ca[s])
	}
	return b.String()
}
