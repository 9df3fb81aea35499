// Package copycerts reads and writes kubeadm's kube-system/kubeadm-certs
// Secret, the way a new control-plane node gets the cluster's CAs and
// service-account key pair: `certctl certs upload` writes it as `kubeadm
// init phase upload-certs --upload-certs` does, `certctl certs download`
// reads it as `kubeadm join --control-plane` does, and each reads what the
// other wrote (cmd/kubeadm/app/phases/copycerts in kubeadm v1.37).
package copycerts

import (
	"fmt"
	"strings"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// The objects kubeadm v1.37 makes (cmd/kubeadm/app/constants).
const (
	// Namespace holds the Secret, its token and its Role.
	Namespace = "kube-system"
	// SecretName is the Secret holding the encrypted files.
	SecretName = "kubeadm-certs"
	// RoleName names the Role and RoleBinding that let a joining node read
	// the Secret.
	RoleName = "kubeadm:" + SecretName
	// BootstrapGroup is the group of kubeadm's bootstrap tokens, which the
	// RoleBinding grants: kubeadm join reads the Secret with one.
	BootstrapGroup = "system:bootstrappers:kubeadm:default-node-token"
)

type fileKind int

const (
	kindCA     fileKind = iota // a CA certificate
	kindCert                   // a client certificate (external etcd)
	kindKey                    // a private key
	kindPublic                 // a public key (sa.pub)
)

// entry is one file the Secret carries: its data key and where it goes.
type entry struct {
	key string // "ca.crt", "etcd-ca.key": kubeadm's file name with "/" as "-"
	// name is the inventory's name of the CA or key pair the file is part
	// of (pki.EtcdCAName); "" for an external etcd's files.
	name string
	path string
	kind fileKind
	pair string // the data key of the certificate or public key this key matches
	// optional is a private key an external CA keeps: absent, kubeadm
	// uploads it empty and join writes nothing.
	optional bool
}

// entries lists the files of the Secret for a certificate folder, as
// kubeadm's certsToTransfer: the cluster CA, the front-proxy CA, the
// service-account key pair, and the etcd CA (stacked etcd) or ext's client
// files (external etcd).
func entries(certDir string, ext *config.ExternalEtcd) []entry {
	s := pki.Store{Dir: certDir}
	var es []entry
	// The inventory's CAs (the etcd CA only with a stacked etcd) and key
	// pair, each named in the Secret by its file with "/" as "-", as
	// kubeadm's certsToTransfer: "etcd/ca.crt" is "etcd-ca.crt".
	for _, e := range pki.Kubeadm().Select(ext != nil, pki.KindCA, pki.KindKeyPair) {
		key := secretName(e.BaseName)
		if e.Kind == pki.KindKeyPair {
			es = append(es, entry{key: key + ".pub", name: e.Name, path: s.PublicKeyPath(e.BaseName), kind: kindPublic},
				entry{key: key + ".key", name: e.Name, path: s.KeyPath(e.BaseName), kind: kindKey, pair: key + ".pub"})
			continue
		}
		es = append(es, entry{key: key + ".crt", name: e.Name, path: s.CertPath(e.BaseName), kind: kindCA},
			entry{key: key + ".key", name: e.Name, path: s.KeyPath(e.BaseName), kind: kindKey, pair: key + ".crt", optional: true})
	}
	if ext == nil {
		return es
	}
	return append(es,
		entry{key: externalEtcdCA, path: ext.CAFile, kind: kindCA},
		entry{key: externalEtcdCert, path: ext.CertFile, kind: kindCert},
		entry{key: externalEtcdKey, path: ext.KeyFile, kind: kindKey, pair: externalEtcdCert})
}

// secretName is how the Secret names the files of baseName: "/" as "-",
// as kubeadm's certsToTransfer ("etcd/ca" is "etcd-ca").
func secretName(baseName string) string { return strings.ReplaceAll(baseName, "/", "-") }

// kubeadm's names of an external etcd's files in the Secret.
const (
	externalEtcdCA   = "external-etcd-ca.crt"
	externalEtcdCert = "external-etcd.crt"
	externalEtcdKey  = "external-etcd.key"
)

// check parses every non-empty file of files (data key → content) as its
// kind and checks that each key matches its certificate or public key, so
// that neither a corrupt upload nor a corrupt download goes further. where
// names the source in errors ("kube-system/kubeadm-certs", a folder), fix
// says what to do about a file that does not parse.
func check(es []entry, files map[string][]byte, where, fix string) error {
	pubs := map[string]any{}
	for _, e := range es {
		data := files[e.key]
		if len(data) == 0 {
			continue
		}
		switch e.kind {
		case kindCA, kindCert:
			certs, err := pki.ParseCerts(data)
			if err != nil {
				return fmt.Errorf("%s in %s: %w: %s", e.key, where, err, fix)
			}
			if e.kind == kindCA && !(certs[0].BasicConstraintsValid && certs[0].IsCA) {
				return fmt.Errorf("%s in %s is not a CA certificate (%q): upload the cluster's CA from a control-plane node", e.key, where, certs[0].Subject.CommonName)
			}
			pubs[e.key] = certs[0].PublicKey
		case kindPublic:
			pub, err := pki.ParsePublicKey(data)
			if err != nil {
				return fmt.Errorf("%s in %s: %w: %s", e.key, where, err, fix)
			}
			pubs[e.key] = pub
		}
	}
	for _, e := range es {
		data := files[e.key]
		if e.kind != kindKey || len(data) == 0 {
			continue
		}
		key, err := pki.ParsePrivateKey(data)
		if err != nil {
			return fmt.Errorf("%s in %s: %w: %s", e.key, where, err, fix)
		}
		if pub, ok := pubs[e.pair]; ok && !pki.SamePublicKey(pub, key.Public()) {
			return fmt.Errorf("%s in %s does not match %s: the two must be a pair; restore the matching files (or upload again from a control-plane node)", e.key, where, e.pair)
		}
	}
	return nil
}
