// Package clusterview is `certctl check-expiration --cluster`: for every
// control-plane node of the cluster, what its kube-apiserver, etcd client
// and etcd peer endpoints serve, found by TLS handshakes (no SSH), checked
// against the local CAs; and kubeadm's kubeadm-certs Secret when present.
//
// The nodes come from the API server (the Nodes with the control-plane
// role and their InternalIP, kubeadm's static pods' mirror pods with their
// endpoint annotations, the kubeadm-config ConfigMap) and from etcd's own
// member list, read through etcd's JSON gateway with the node's etcd
// client certificate.
package clusterview

import (
	"time"

	"github.com/certctl/certctl/phases/expiration"
)

// The versioned output schema of `certctl check-expiration --cluster
// -o json|yaml`, with the node view's compatibility rules
// (expiration.APIVersion): fields and problem types are only ever added.
const (
	APIVersion = expiration.APIVersion
	Kind       = "ClusterCertificateInfo"
)

// The components whose endpoints are checked, as Endpoint.Component names them.
const (
	APIServer  = "kube-apiserver"
	EtcdClient = "etcd-client"
	EtcdPeer   = "etcd-peer"
)

// The problem types of the cluster view, beside the node view's
// (expiration.NotSignedByCA, expiration.CAMissing, expiration.WeakKey).
const (
	// Unreachable: no TLS handshake with the endpoint was possible.
	Unreachable expiration.ProblemType = "unreachable"
	// SANMismatch: the served certificate is not valid for the address it
	// was reached at, or (kube-apiserver) for the controlPlaneEndpoint or a
	// certSAN of the kubeadm-config ConfigMap.
	SANMismatch expiration.ProblemType = "san-mismatch"
	// NotYetValid: the served certificate's NotBefore is after CheckedAt:
	// clients reject it until then (a clock ahead on the node that issued
	// it, or behind on this host); the node view's type.
	NotYetValid = expiration.NotYetValid
	// DiffersFromDisk: an endpoint of this host (at one of its own
	// addresses) serves another certificate than the file in --cert-dir:
	// the component was not restarted since the file was renewed (or the
	// file was replaced since it started).
	DiffersFromDisk expiration.ProblemType = "differs-from-disk"
)

// Info is the whole report.
type Info struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	// CheckedAt is the instant residual times are measured from.
	CheckedAt         time.Time `json:"checkedAt"`
	WarnWithinSeconds int64     `json:"warnWithinSeconds"`
	// Sources says where the nodes were learned from and what could not
	// be read ("nodes", "kubeadm-config", "etcd members https://...").
	Sources []string `json:"sources"`
	// ControlPlaneEndpoint is what the kubeadm-config ConfigMap's
	// controlPlaneEndpoint serves; null when it names none.
	ControlPlaneEndpoint *Endpoint `json:"controlPlaneEndpoint"`
	// Nodes are the control-plane nodes, by name.
	Nodes []Node `json:"nodes"`
	// KubeadmCerts is kube-system/kubeadm-certs, which `kubeadm init phase
	// upload-certs` (or `certctl certs upload`) writes for joining nodes;
	// null when absent. Its content is encrypted and not read.
	KubeadmCerts *KubeadmCerts `json:"kubeadmCerts"`
	// Warnings say what could not be learned; the report is partial then.
	Warnings []string `json:"warnings"`
	// kubeadmCertsUnread: KubeadmCerts is nil because kubeadm-certs could
	// not be read, not because there is none.
	kubeadmCertsUnread bool
}

// Node is one control-plane node.
type Node struct {
	Name string `json:"name"`
	// Addresses are the node's InternalIP addresses (or, for a node known
	// only to etcd, its peer URL's host).
	Addresses []string `json:"addresses"`
	// Sources say where the node was learned from: "node", "kube-apiserver
	// pod", "etcd pod", "etcd member".
	Sources   []string   `json:"sources"`
	Endpoints []Endpoint `json:"endpoints"`
}

// Endpoint is what one TLS endpoint served.
type Endpoint struct {
	// Component is APIServer, EtcdClient or EtcdPeer.
	Component string `json:"component"`
	// Address is the host:port the handshake was made with.
	Address string `json:"address"`
	// ExpirationDate is the served certificate's NotAfter; null when the
	// handshake failed.
	ExpirationDate      *time.Time `json:"expirationDate"`
	ResidualTimeSeconds int64      `json:"residualTime"`
	Subject             string     `json:"subject,omitempty"`
	Issuer              string     `json:"issuer,omitempty"`
	// Serial as `openssl x509 -serial` prints it.
	Serial string `json:"serial,omitempty"`
	// DNSNames and IPAddresses are the served certificate's SANs.
	DNSNames    []string `json:"dnsNames"`
	IPAddresses []string `json:"ipAddresses"`
	// CAName is the local CA it is checked against ("ca", "etcd-ca").
	CAName string `json:"caName"`
	// SignedByCA is whether the served chain verifies against the local
	// CA (at CheckedAt, for any usage).
	SignedByCA bool `json:"signedByCA"`
	// SANsMatch is whether the certificate is valid for Address's host and,
	// for kube-apiserver, for the controlPlaneEndpoint and certSANs.
	SANsMatch    bool                 `json:"sansMatch"`
	ExpiringSoon bool                 `json:"expiringSoon"`
	Problems     []expiration.Problem `json:"problems"`
	// hint is added to an unreachable endpoint's message: why this
	// address was tried.
	hint string
}

// KubeadmCerts is the kubeadm-certs Secret, as far as it can be seen
// without its certificate key.
type KubeadmCerts struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Created   time.Time `json:"created"`
	// AgeSeconds is CheckedAt - Created.
	AgeSeconds int64 `json:"ageSeconds"`
	// Updated is when it was last written, when that is later than
	// Created: an upload run again replaces the Secret's content (and its
	// owner token, hence its deletion time) but keeps its creation time.
	// Absent when it was never replaced.
	Updated *time.Time `json:"updated,omitempty"`
	// Files are the names of the encrypted files it holds.
	Files []string `json:"files"`
	// Owner is the object whose deletion deletes it ("Secret/bootstrap-token-abcdef");
	// with several, each, comma-separated: it is deleted once all are
	// gone. "" when none: then it is never deleted.
	Owner string `json:"owner,omitempty"`
	// OwnersGone: every owner is gone already. The garbage collector
	// deletes it at once; still there, kube-controller-manager's garbage
	// collector is not running.
	OwnersGone bool `json:"ownersGone,omitempty"`
	// NoExpiry: an owner bootstrap token that is there has no expiration
	// (kubeadm token create --ttl 0): it is never deleted, so neither is
	// the Secret, until that token is deleted. Absent (false) otherwise.
	NoExpiry bool `json:"noExpiry,omitempty"`
	// ExpirationDate is the owner bootstrap token's expiration (with
	// several owners, the last one's): the garbage collector deletes the
	// Secret after it. Null when OwnersGone, when NoExpiry, or when an
	// owner's expiration is unknown (it could not be read, or is not an
	// RFC 3339 time).
	ExpirationDate *time.Time `json:"expirationDate"`
	// Expired is whether ExpirationDate has passed: a node can no longer
	// join with it; upload the certificates again.
	Expired bool `json:"expired"`

	// noExpiryOwners are the owners without an expiration, as Owner
	// names them, for the text.
	noExpiryOwners []string
}
