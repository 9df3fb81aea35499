// Package expiration checks the certificates of a control-plane node the way
// `kubeadm certs check-expiration` does, and also reports what would break
// the cluster before expiry does: a certificate that does not chain to its
// CA, a key that does not match, SANs that drifted from the configuration,
// and the kubelet's client certificate.
package expiration

import (
	"crypto/x509"
	"time"
)

// The versioned output schema of `certctl check-expiration -o json|yaml`.
//
// Compatibility: within APIVersion output.certctl.io/v1, fields and
// Problem types are only ever added, never renamed, removed or given
// another meaning; a consumer must ignore what it does not know. The
// fields kubeadm's output.kubeadm.k8s.io/v1alpha3 CertificateExpirationInfo
// has keep its names and meanings, so tools written for kubeadm's JSON read
// certctl's. docs/renew.md documents every field.
const (
	APIVersion = "output.certctl.io/v1"
	Kind       = "CertificateExpirationInfo"
)

// Info is the whole report.
type Info struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	// CheckedAt is the instant residual times are measured from.
	CheckedAt time.Time `json:"checkedAt"`
	// WarnWithinSeconds is --warn-within; ExpiringSoon is set on every
	// certificate whose residual time is below it.
	WarnWithinSeconds      int64         `json:"warnWithinSeconds"`
	Certificates           []Certificate `json:"certificates"`
	CertificateAuthorities []Certificate `json:"certificateAuthorities"`
	// KeyPairs are the key pairs that are not certificates, listed only
	// with a problem, and in no table: the service-account key pair
	// ("sa"), whose sa.key signs every service-account token, at a mode
	// group or others may read (key-permissions).
	KeyPairs []KeyPair `json:"keyPairs,omitempty"`
	// Folders are the certificate folder, its etcd folder, the
	// kubeconfig folder and the folders of the kubelet's client
	// certificate and key that kubelet.conf names, listed only with a
	// problem, and in no table: group or others may write them
	// (folder-permissions), and so replace a CA, a key or a kubeconfig in
	// them, or give the kubelet another identity.
	Folders []Folder `json:"folders,omitempty"`
	// RestartsOwed lists the static pods that must still be restarted to
	// use renewed certificates: restarts that `renew --restart-control-plane`
	// could not do or verify, which it keeps in .certctl-restarts.json
	// beside the certificate folder and retries. Empty when none; a non-empty list makes the exit
	// status exitcode.RestartOwed unless a problem outranks it.
	RestartsOwed []RestartOwed `json:"restartsOwed"`
	// restartHint says how to do them (restartHint).
	restartHint string
}

// KeyPair is a key pair that is not a certificate, with its problems.
type KeyPair struct {
	Name     string    `json:"name"` // "sa"
	File     string    `json:"file"` // its private key: sa.key
	Problems []Problem `json:"problems"`
}

// Folder is a folder of certificates or kubeconfigs, with its problems.
type Folder struct {
	Name     string    `json:"name"` // "cert-dir", "etcd-cert-dir", "kubeconfig-dir", "kubelet-cert-dir"
	File     string    `json:"file"` // its path
	Problems []Problem `json:"problems"`
}

// RestartOwed is a static pod still running with the old certificates.
type RestartOwed struct {
	Component string    `json:"component"` // "kube-apiserver", "etcd", ...
	Since     time.Time `json:"since"`     // when the renewal that owes it committed
	Files     []string  `json:"files"`     // the renewed files it has not loaded
	Reason    string    `json:"reason,omitempty"`
}

// Certificate is one certificate or CA.
type Certificate struct {
	// Name is kubeadm's: "apiserver", "etcd-server", "admin.conf", "ca";
	// plus "kubelet.conf" for the kubelet's client certificate.
	Name string `json:"name"`
	// File is where the certificate is: a .crt file, a kubeconfig file, or
	// for kubelet.conf the PEM file it points to.
	File string `json:"file"`
	// ExpirationDate is the certificate's NotAfter; null when Missing or
	// unreadable.
	ExpirationDate *time.Time `json:"expirationDate"`
	// ResidualTimeSeconds is ExpirationDate - CheckedAt, negative once
	// expired (kubeadm's field name: residualTime).
	ResidualTimeSeconds int64 `json:"residualTime"`
	// CAName names the signing CA ("ca", "etcd-ca", "front-proxy-ca"); empty for a CA.
	CAName string `json:"caName,omitempty"`
	// ExternallyManaged is true when the signing CA's key (for a CA, its
	// own key) is not on disk: certctl cannot renew it from the CA.
	ExternallyManaged bool `json:"externallyManaged"`
	// Missing is true when the file does not exist. Not a problem by
	// itself: an external etcd, for example, has no etcd certificates.
	Missing bool `json:"missing"`
	// ExpiringSoon is true when ResidualTimeSeconds < WarnWithinSeconds
	// (with the default 0: when it has expired).
	ExpiringSoon bool `json:"expiringSoon"`
	// Problems found; empty when none.
	Problems []Problem `json:"problems"`
	// NotRenewed, when set, says why certctl renew never renews it: the
	// external etcd's files (external-etcd-client, external-etcd-ca).
	NotRenewed string `json:"notRenewed,omitempty"`
	// cert is the certificate read, for certs list (nil when none).
	cert *x509.Certificate
}

// Problem is something that breaks, or will break, the use of a certificate.
type Problem struct {
	Type    ProblemType `json:"type"`
	Message string      `json:"message"` // names the file and what to do
}

// ProblemType is a stable, machine-readable problem name.
type ProblemType string

// The problem types.
const (
	// Unreadable: the file cannot be read or parsed (corrupt PEM, malformed
	// kubeconfig, no embedded client certificate, permissions).
	Unreadable ProblemType = "unreadable"
	// KeyMissing: the certificate is there, its private key is not (for a
	// CA, a symbolic link to nothing: a CA without a key file is external).
	KeyMissing ProblemType = "key-missing"
	// KeyMismatch: the private key is not the certificate's.
	KeyMismatch ProblemType = "key-mismatch"
	// NotSignedByCA: the certificate does not chain to its CA on disk.
	NotSignedByCA ProblemType = "not-signed-by-ca"
	// CAMissing: the signing CA's certificate is missing or unreadable, so
	// the chain cannot be checked.
	CAMissing ProblemType = "ca-missing"
	// NotACA: a CA file holds a certificate that cannot sign: without
	// CA:TRUE, or with a key usage extension that lacks certSign
	// (pki.CAProblem).
	NotACA ProblemType = "not-a-ca"
	// SANDrift: the SANs differ from what the configuration (--config)
	// asks for.
	SANDrift ProblemType = "san-drift"
	// WeakKey: the certificate's key is not one certctl's issuance policy
	// allows: weaker (RSA below 2048 bits, ECDSA on a curve other than
	// P-256, P-384, P-521), or of a type neither kubeadm nor certctl makes
	// (Ed25519, which is not weak, or another; the message names it). One
	// type, the metrics' label, which the alerts of docs/monitoring.md use.
	WeakKey ProblemType = "weak-key"
	// KeyPermissions: a file holding a private key (a .key file, a
	// kubeconfig) has group or other permission bits.
	KeyPermissions ProblemType = "key-permissions"
	// KeyOwner: a file holding a private key (a .key file, a kubeconfig)
	// is owned by a user other than root and its folder's owner, who may
	// read and replace it.
	KeyOwner ProblemType = "key-owner"
	// CertPermissions: a certificate file (a CA's too) or sa.pub is
	// writable by group or others, or owned by a user other than root
	// and its folder's owner, who may replace it: a CA certificate
	// replaced makes the components trust what another CA signs. Also a
	// kubeconfig that embeds no credential (kubelet.conf after the TLS
	// bootstrap) that group or others may write: it holds the CA and the
	// server its client trusts, and names the key it uses; and the
	// kubelet's client certificate it names in a file apart from its key.
	CertPermissions ProblemType = "cert-permissions"
	// FolderPermissions: the certificate folder, its etcd folder, the
	// kubeconfig folder or the kubelet's folder that kubelet.conf names
	// is writable by group or others, who may replace a CA, a key or a
	// kubeconfig in it, or the kubelet's certificate and key (in
	// Info.Folders).
	FolderPermissions ProblemType = "folder-permissions"
	// NoFiles: none of the files to check exists in the certificate and
	// kubeconfig folders (the wrong folders, or every file gone), on the
	// certificate folder's row: in --textfile's metrics only, which
	// check-expiration writes before it fails (exit 1), so that an alert
	// fires.
	NoFiles ProblemType = "no-files"
	// CADataMismatch: a kubeconfig's certificate-authority-data
	// holds none of the certificates of its CA file: its client rejects
	// the API server's certificate.
	CADataMismatch ProblemType = "ca-data-mismatch"
	// RotationSigningFlags: during a CA rotation, kube-controller-manager's
	// signing flags name the trust file, which holds two CAs: it refuses
	// to start (`kubeadm upgrade` writes kubeadm's flags back). On the row
	// of the CA it signs with.
	RotationSigningFlags ProblemType = "rotation-signing-flags"
	// RotationCAData: during a CA rotation, a kubeconfig's
	// certificate-authority-data is not the CAs of the stage (`kubeadm
	// certs renew` writes the first CA alone).
	RotationCAData ProblemType = "rotation-ca-data"
	// NotYetValid: the certificate's NotBefore is after CheckedAt: every
	// client rejects it until then (made on a host whose clock is ahead,
	// or this host's clock is behind).
	NotYetValid ProblemType = "not-yet-valid"
	// NotALeaf: a leaf's file (or a kubeconfig's client certificate data)
	// holds a CA certificate first: its component presents that one, which
	// its peers reject.
	NotALeaf ProblemType = "not-a-leaf"
)
