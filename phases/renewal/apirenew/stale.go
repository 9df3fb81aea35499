package apirenew

import (
	"crypto"
	"errors"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// RemovedNext is what a warning about a pending key left behind says
// will happen to it: every renew run removes, first, the pending keys of
// certificates that are installed (see Stale), whatever it renews.
const RemovedNext = "the next `certctl renew` (without --dry-run) removes it"

// Stale finds the pending keys whose certificate is installed: a run
// stopped (killed, or its removal failed) between installing a
// certificate and removing its pending key left there a copy of the
// private key in use, which no CSR needs any more. A pending key is
// stale when its public key is that of the certificate installed for
// its name: the certificate file of a pair (apiserver.key for
// CertDir/apiserver.crt), or the client certificate embedded in a
// kubeconfig (admin.conf.key for KubeconfigDir/admin.conf), as
// renewal.CurrentCert reads them. Any other pending key is a CSR's still
// waiting, and is kept with its refusal note; so is one that cannot be
// read, or whose certificate cannot, and a file named after no target.
type Stale struct {
	PendingDir, CertDir, KubeconfigDir string
	// Targets are the certificates whose pending keys are looked at;
	// every certificate of kubeadm's inventory when nil.
	Targets []renewal.Target
}

// Find returns the names of the stale pending keys, in Targets' order.
// It only reads, and needs no lock: Remove checks again under it.
func (s Stale) Find() []string {
	var out []string
	p := pending{dir: s.PendingDir}
	for _, t := range s.targets() {
		if k, _ := p.load(t.Name); k != nil && s.installed(t, k.Public()) {
			out = append(out, t.Name)
		}
	}
	return out
}

// Remove removes the stale pending keys with their refusal notes, then
// the pending-key folder when that leaves it empty, and returns the names
// whose key it removed. The caller holds certctl's lock, so that no
// certificate is installed meanwhile. The error names each key it could
// not remove; the others are removed all the same.
func (s Stale) Remove() ([]string, error) {
	var removed []string
	var errs []error
	p := pending{dir: s.PendingDir}
	for _, t := range s.targets() {
		k, _ := p.load(t.Name)
		if k == nil || !s.installed(t, k.Public()) {
			continue
		}
		if err := p.remove(t.Name, k.Public()); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, t.Name)
	}
	return removed, errors.Join(errs...)
}

// KeyFile is the pending key of the certificate called name, as Find and
// Remove name it: PendingDir/NAME.key.
func (s Stale) KeyFile(name string) string { return pending{dir: s.PendingDir}.path(name) }

func (s Stale) targets() []renewal.Target {
	if s.Targets == nil {
		return renewal.Targets(pki.Kubeadm(), false)
	}
	return s.Targets
}

// installed reports whether the certificate installed for t is for pub.
func (s Stale) installed(t renewal.Target, pub crypto.PublicKey) bool {
	_, cert := renewal.CurrentCert(t, s.CertDir, s.KubeconfigDir)
	return cert != nil && pki.SamePublicKey(cert.PublicKey, pub)
}
