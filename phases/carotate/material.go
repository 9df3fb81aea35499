package carotate

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/client-go/util/keyutil"

	"github.com/certctl/certctl/pki"
)

// side is one CA of a rotation, the old or the new: a CA certificate and
// its key, or for sa a key pair.
type side struct {
	cert *x509.Certificate // nil for sa
	key  crypto.Signer
	pub  crypto.PublicKey // sa without its key: a side the step drops (readMaterial)
}

// public is the side's public key.
func (s side) public() crypto.PublicKey {
	if s.key != nil {
		return s.key.Public()
	}
	return s.pub
}

// id is the side's fingerprint, as the record keeps it.
func (s side) id() string {
	if s.cert != nil {
		return fingerprint(s.cert)
	}
	return keyFingerprint(s.public())
}

// trustPEM is what a trust file holds of s: its certificate, or for sa
// its public key.
func (s side) trustPEM() ([]byte, error) {
	if s.cert != nil {
		return pki.EncodeCert(s.cert), nil
	}
	return pki.MarshalPublicKey(s.public())
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

// readEntry is readMaterial's step for a node's cluster entry, which
// needs the CAs' certificates (or sa's public keys) alone: either key may
// be gone (the new one before reissue reads it again from the Secret, the
// old one at reissue, which only --abort needs).
const readEntry = "cluster-entry"

// readMaterial reads the old and new CA of a rotation at rec's stage and
// checks them against the record's fingerprints. The key of the side that
// step drops with its CA (the new one at either abort, the old one at
// finish) may be gone: that side is then its certificate alone, or for sa its public key
// in the trust file, which is all the step needs of it. Another key that is
// gone is an error that says which step can still go on without it.
func readMaterial(k kind, p paths, rec *Record, step string) (material, error) {
	var m material
	var err error
	oldKey, newKey := p.Key, p.NewKey // the old key signs at trust
	switch rec.Stage {
	case StageTrust:
	case StageReissue:
		oldKey, newKey = p.OldKey, p.Key
	default:
		return m, fmt.Errorf("rotation of %s is at stage %q, not in progress", k.name, rec.Stage)
	}
	if m.old, err = readSideOf(k, p, p.OldCert, oldKey, rec.OldCA, step == stepFinish || step == readEntry); err != nil {
		return m, lostKey(k, p, rec, oldKey, "old", err)
	}
	if m.new, err = readSideOf(k, p, p.NewCert, newKey, rec.NewCA, step == stepAbort || step == stepAbortReissue || step == readEntry); err != nil {
		return m, lostKey(k, p, rec, newKey, "new", err)
	}
	if m.old.id() != rec.OldCA || m.new.id() != rec.NewCA {
		return m, mismatch(k, p, rec, m, [2]string{p.OldCert, p.NewCert}, [2]string{oldKey, newKey})
	}
	return m, nil
}

// readSideOf is readSide, or, when dropped and keyFile is gone, the side
// without its key: certFile's certificate, or for sa the public key of the
// trust file whose fingerprint is id.
func readSideOf(k kind, p paths, certFile, keyFile, id string, dropped bool) (side, error) {
	if !dropped || !missing(keyFile) {
		return readSide(certFile, keyFile)
	}
	if !k.sa {
		cert, _, err := pki.ReadCertFile(certFile)
		return side{cert: cert}, err
	}
	keys, err := pki.ReadParsed(p.Trust, "public keys", keyutil.ParsePublicKeysPEM)
	if err != nil {
		return side{}, err
	}
	for _, key := range keys {
		if keyFingerprint(key) == id {
			return side{pub: key}, nil
		}
	}
	return side{}, fmt.Errorf("%s is gone and %s holds no public key of the rotation record (sha256 %s): put back the key, or sa.pub as the last stage wrote it", keyFile, p.Trust, short([]string{id}))
}

// lostKey is err, reading the key of the what ("old" or "new") CA of a
// rotation at rec's stage, with the step that can still go on when the
// key file is gone: no backup holds the new key, which trust made; only
// --abort does without it. The old key of stage reissue only --abort
// needs.
func lostKey(k kind, p paths, rec *Record, keyFile, what string, err error) error {
	if !missing(keyFile) {
		return err
	}
	switch {
	case rec.Stage == StageTrust && what == "new":
		return fmt.Errorf("%w: the new %s CA's key is gone, and reissue cannot sign without it (no backup holds it: trust made it): in a rotation across control-plane nodes, run reissue with --certificate-key KEY (the key the first node printed), which reads it again from the cluster while a node has not re-issued; otherwise go back with `certctl ca rotate %s --abort`, which does not need it, then start the rotation again; or put back a copy of your own", err, k.name, k.name)
	case rec.Stage == StageReissue && what == "new":
		return fmt.Errorf("%w: the new %s CA's key is gone, and finish, which keeps the new CA signing, cannot go on without it (no backup holds it: trust made it): go back with `certctl ca rotate %s --abort`, which signs with the old CA again and does not need it, then start the rotation again; or put back a copy of your own", err, k.name, k.name)
	case rec.Stage == StageReissue && what == "old":
		return fmt.Errorf("%w: the old %s CA's key is gone: finish does not need it, but --abort, which signs with the old CA again, does (the backup stage reissue made in certctl-backups holds it as %s)", err, k.name, strings.TrimPrefix(p.Key, filepath.Dir(p.Record)+string(filepath.Separator)))
	}
	return err
}

// readCurrent reads the CA that signs before a rotation: the certificate of
// the trust file that the key matches (pki.LoadCA), or the sa key. warning
// is pki.LoadedCA.LooseKey's: the old key signs until reissue.
func readCurrent(k kind, p paths) (_ side, warning string, _ error) {
	if k.sa {
		s, err := readSide("", p.Key)
		return s, "", err
	}
	ca, err := pki.LoadCA(p.Trust, p.Key, timeZero)
	if pki.FaultOf(err) == pki.CAKeyMissing {
		return side{}, "", fmt.Errorf("%w: the %s CA's key is not on this node (an external CA, docs/external-ca.md), and certctl does not rotate an external CA: rotate it with the PKI that holds its key, or put its key back as %s; nothing was changed", err, k.name, p.Key)
	}
	if err != nil && !pki.SaysWhatToDo(err) {
		err = fmt.Errorf("%w: fix the %s CA before rotating it", err, k.name)
	}
	if err != nil {
		return side{}, "", err
	}
	return side{cert: ca.Cert, key: ca.Key}, ca.LooseKey(), nil
}
