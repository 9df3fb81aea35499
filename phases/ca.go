package phases

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// readCA reads the CA certificate BASE.crt and checks that it can sign
// (pki.CAProblem), with the certificates that follow it in its file.
func readCA(s pki.Store, base string) (*x509.Certificate, []*x509.Certificate, error) {
	ca, err := pki.LoadCA(s.CertPath(base), "", time.Time{})
	switch pki.FaultOf(err) {
	case 0:
		return ca.Cert, ca.Bundle[1:], nil
	case pki.CANotCA:
		return nil, nil, fmt.Errorf("%w; restore the CA, or point --cert-dir at the right folder", err)
	}
	if pki.SaysWhatToDo(err) {
		return nil, nil, err
	}
	return nil, nil, withFix(err, "restore the CA certificate from a backup")
}

// readCAKey reads the key of the CA BASE, whose certificate caCert is (as
// readCA read it), to sign with it: through pki.LoadCA, certctl's one CA
// reader, so that a key file group or others may read is warned of, once
// per file per run (env.warnf), as the key of the CA phase itself is.
func (env *Env) readCAKey(base string, caCert *x509.Certificate) (crypto.Signer, error) {
	s := env.store()
	certPath, keyPath := s.CertPath(base), s.KeyPath(base)
	ca, err := pki.LoadCA(certPath, keyPath, time.Time{})
	if w := ca.LooseKey(); w != "" {
		env.warnf("%s", w)
	}
	if err != nil && pki.FaultOf(err) != pki.CAKeyMismatch {
		return nil, withFix(err, caKeyFix)
	}
	// caCert signs, the first of its file; LoadCA accepts a key of any
	// certificate of a bundle.
	if ca.Key == nil || pki.KeyMatches(caCert, ca.Key) != nil {
		return nil, caKeyMismatch(certPath, keyPath, ca.Bundle, ca.Key, "restore the matching CA pair")
	}
	return ca.Key, nil
}

// caKeyMismatch is the error for the CA key at keyPath (key, nil when
// unread), which does not match the first certificate of certPath, whose
// certificates are bundle. kubeadm v1.37 signs with the first certificate
// of the file (TryLoadCertFromDisk), with whatever key is there, and so
// does certctl's init-phase: a key of a later certificate of the bundle,
// which certctl never writes so (a CA rotation writes the signing CA
// first), is refused, saying which certificate to put first; otherwise fix
// says what to do.
func caKeyMismatch(certPath, keyPath string, bundle []*x509.Certificate, key crypto.Signer, fix string) error {
	if key != nil {
		for i, c := range bundle {
			if i > 0 && pki.KeyMatches(c, key) == nil {
				return fmt.Errorf("%s does not match the first certificate of %s but certificate %d of its %d (subject %q, serial %X), and kubeadm and certctl sign with the first: put that certificate first in %s", keyPath, certPath, i+1, len(bundle), c.Subject.String(), c.SerialNumber, certPath)
			}
		}
	}
	return fmt.Errorf("%s does not match %s: %s", certPath, keyPath, fix)
}

// caCertForKey returns the certificate of the CA p for key, made once per
// run. For an existing key, which a run killed between writing a CA's key
// and its certificate leaves (or someone who removed the certificate
// only), the check pass makes it, so that the leaves on disk that this key
// signed are verified against the very certificate the real pass then
// writes (checkExistingLeaf), not assumed to chain to it. For a new key the
// real pass makes it.
func (env *Env) caCertForKey(p pki.Profile, certPath string, key crypto.Signer) (*x509.Certificate, error) {
	if cert, ok := env.madeCAs[certPath]; ok {
		return cert, nil
	}
	v := pki.NewValidity(env.start, config.CertificateBackdate, env.Cluster.CACertificateValidity)
	cert, err := pki.NewSelfSignedCA(env.Rand, p, key, v)
	if err != nil {
		return nil, err
	}
	env.madeCAs[certPath] = cert
	return cert, nil
}

// signingValidity is the validity of the certificate that caCert, of the
// CA caName, signs for what (a file, or "the client certificate of FILE"):
// v cut to the CA's expiry, with a warning. A CA that has expired at the
// run's time signs nothing: the error says so, and to rotate it, as renew
// says (it said "renew the CA first", which certctl renew refuses: it does
// not renew CAs); the check pass returns it before any file is written.
// Every phase that signs goes through here.
func (env *Env) signingValidity(v pki.Validity, caCert *x509.Certificate, caName, what, caCertPath string) (pki.Validity, error) {
	if err := pki.CAValidAt(caCert, env.start); err != nil {
		return v, fmt.Errorf("cannot sign %s with %s: %w; rotate the CA first: `certctl ca rotate %s%s` (docs/ca-rotation.md)", what, caCertPath, err, caName, env.folderFlags())
	}
	v, capped, err := pki.CapToCA(v, caCert)
	if err != nil {
		return v, fmt.Errorf("cannot sign %s with %s: %w; rotate the CA first: `certctl ca rotate %s%s` (docs/ca-rotation.md)", what, caCertPath, err, caName, env.folderFlags())
	}
	if capped {
		env.warnf("%s would outlive its CA %s: its validity is cut to the CA's expiry, %s", what, caCertPath, caCert.NotAfter.UTC().Format("2006-01-02"))
	}
	return v, nil
}
