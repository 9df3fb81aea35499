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
	"sort"
	"strings"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/pki"
)

// certctl's signer names, one per CA and purpose.
const (
	// KubeAPIServerServing issues the API server's serving certificate
	// (apiserver.crt) with the cluster CA: CN kube-apiserver, server auth,
	// the API server's SANs.
	KubeAPIServerServing = "certctl.io/kube-apiserver-serving"
	// KubeAPIServerClient issues the cluster CA's client certificates:
	// apiserver-kubelet-client.crt and the kubeconfigs' (admin.conf,
	// super-admin.conf, controller-manager.conf, scheduler.conf,
	// kubelet.conf). super-admin.conf carries O=system:masters, which the API
	// server refuses for the built-in kubernetes.io/kube-apiserver-client.
	KubeAPIServerClient = "certctl.io/kube-apiserver-client"
	// FrontProxyClient issues front-proxy-client.crt with the front-proxy CA.
	FrontProxyClient = "certctl.io/front-proxy-client"
	// EtcdServer issues etcd/server.crt with the etcd CA (server and client auth).
	EtcdServer = "certctl.io/etcd-server"
	// EtcdPeer issues etcd/peer.crt with the etcd CA (server and client auth).
	EtcdPeer = "certctl.io/etcd-peer"
	// EtcdClient issues the etcd CA's client certificates:
	// etcd/healthcheck-client.crt and apiserver-etcd-client.crt.
	EtcdClient = "certctl.io/etcd-client"
)

// Names lists certctl's signer names, sorted.
func Names() []string {
	n := []string{KubeAPIServerServing, KubeAPIServerClient, FrontProxyClient, EtcdServer, EtcdPeer, EtcdClient}
	sort.Strings(n)
	return n
}

// IsCertctlName reports whether name is one of certctl's signer names.
func IsCertctlName(name string) bool {
	for _, n := range Names() {
		if n == name {
			return true
		}
	}
	return false
}

// certSigner maps the names of certctl's inventory (pki.Certificates and
// pki.Kubeconfigs) to signer names.
var certSigner = map[string]string{
	"apiserver":                KubeAPIServerServing,
	"apiserver-kubelet-client": KubeAPIServerClient,
	"front-proxy-client":       FrontProxyClient,
	"etcd-server":              EtcdServer,
	"etcd-peer":                EtcdPeer,
	"etcd-healthcheck-client":  EtcdClient,
	"apiserver-etcd-client":    EtcdClient,
	"admin":                    KubeAPIServerClient,
	"super-admin":              KubeAPIServerClient,
	"controller-manager":       KubeAPIServerClient,
	"scheduler":                KubeAPIServerClient,
	"kubelet":                  KubeAPIServerClient,
}

// ForCertificate returns the signer name that issues the certificate of
// certctl's inventory called name: a certificate's phase name ("apiserver",
// "etcd-server", "apiserver-etcd-client") or a kubeconfig file
// ("super-admin.conf", or "super-admin"). CAs and the service-account key
// pair have none: they cannot be requested through the API.
func ForCertificate(name string) (string, error) {
	if s, ok := certSigner[strings.TrimSuffix(name, ".conf")]; ok {
		return s, nil
	}
	switch name {
	case pki.CAName, pki.FrontProxyCAName, pki.EtcdCAName, "sa":
		return "", fmt.Errorf("signer: %q cannot be requested through the certificates API: a CA (or the sa key pair) is not issued by a signer", name)
	}
	known := make([]string, 0, len(certSigner))
	for n := range certSigner {
		known = append(known, n)
	}
	sort.Strings(known)
	return "", fmt.Errorf("signer: unknown certificate %q: certctl's are %s (kubeconfigs with or without .conf)", name, strings.Join(known, ", "))
}

// CAFor returns the name of the CA (pki.CAName, pki.FrontProxyCAName,
// pki.EtcdCAName) whose key signs for signerName, or "" for a signer name
// certctl does not know. The built-in kubernetes.io names use the cluster CA.
func CAFor(signerName string) string {
	switch signerName {
	case KubeAPIServerServing, KubeAPIServerClient,
		certv1.KubeAPIServerClientSignerName, certv1.KubeAPIServerClientKubeletSignerName, certv1.KubeletServingSignerName:
		return pki.CAName
	case FrontProxyClient:
		return pki.FrontProxyCAName
	case EtcdServer, EtcdPeer, EtcdClient:
		return pki.EtcdCAName
	}
	return ""
}
