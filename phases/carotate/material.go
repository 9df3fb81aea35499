package carotate

import (
	"crypto"
	"crypto/x509"
	"fmt"

	"github.com/certctl/certctl/pki"
)

// side is one CA of a rotation, the old or the new: a CA certificate and
// its key, or for sa a key pair.
type side struct {
	cert *x509.Certificate // nil for sa
	key  crypto.Signer
}

// id is the side's fingerprint, as the record keeps it.
func (s side) id() string {
	if s.cert != nil {
		return fingerprint(s.cert)
	}
	return keyFingerprint(s.key.Public())
}

// trustPEM is what a trust file holds of s: its certificate, or for sa
// its public key.
func (s side) trustPEM() ([]byte, error) {
	if s.cert != nil {
		return pki.EncodeCert(s.cert), nil
	}
	return pki.MarshalPublicKey(s.key.Public())
}

// material is both sides of a rotation, read from the files of its stage.
type material struct {
	old, new side
}

// readSide reads a CA certificate alone (certFile, "" for sa) and a key,
// and checks that they match.
func readSide(certFile, keyFile string) (side, error) {
	key, err := pki.ReadKeyFile(keyFile)
	if err != nil || certFile == "" {
		return side{key: key}, err
	}
	ca, err := pki.LoadCA(certFile, keyFile, timeZero)
	if err != nil {
		return side{key: key}, err
	}
	return side{cert: ca.Cert, key: key}, nil
}

// readMaterial reads the old and new CA of a rotation at rec's stage and
// checks them against the record's fingerprints.
func readMaterial(k kind, p paths, rec *Record) (material, error) {
	var m material
	var err error
	oldKey, newKey := p.key, p.newKey // the old key signs at trust
	switch rec.Stage {
	case StageTrust:
	case StageReissue:
		oldKey, newKey = p.oldKey, p.key
	default:
		return m, fmt.Errorf("rotation of %s is at stage %q, not in progress", k.name, rec.Stage)
	}
	if m.old, err = readSide(p.oldCert, oldKey); err != nil {
		return m, err
	}
	if m.new, err = readSide(p.newCert, newKey); err != nil {
		return m, err
	}
	if m.old.id() != rec.OldCA || m.new.id() != rec.NewCA {
		return m, mismatch(k, p, rec, m, [2]string{p.oldCert, p.newCert}, [2]string{oldKey, newKey})
	}
	return m, nil
}

// readCurrent reads the CA that signs before a rotation: the certificate of
// the trust file that the key matches (pki.LoadCA), or the sa key.
func readCurrent(k kind, p paths) (side, error) {
	if k.sa {
		return readSide("", p.key)
	}
	ca, err := pki.LoadCA(p.trust, p.key, timeZero)
	if pki.FaultOf(err) == pki.CAKeyMissing {
		return side{}, fmt.Errorf("%w: the %s CA's key is not on this node (an external CA, docs/external-ca.md), and certctl does not rotate an external CA: rotate it with the PKI that holds its key, or put its key back as %s; nothing was changed", err, k.name, p.key)
	}
	if err != nil {
		return side{}, fmt.Errorf("%w: fix the %s CA before rotating it", err, k.name)
	}
	return side{cert: ca.Cert, key: ca.Key}, nil
}
