package castage

import (
	"path/filepath"

	"github.com/certctl/certctl/pki"
)

// Files are the files of the rotation of one CA (or the sa key pair) in a
// certificate folder.
type Files struct {
	Trust   string // the bundle: ca.crt, or sa.pub
	Key     string // the signing key: ca.key, sa.key
	OldCert string // ca.old.crt: the old CA alone (none for sa)
	NewCert string // ca.new.crt: the new CA alone (none for sa)
	OldKey  string // ca.old.key: the old key, once the new one signs
	NewKey  string // ca.new.key: the new key, until it signs
	Record  string // .certctl-rotation-ca.json
}

// FilesOf are the files of the rotation of e, a CA or key pair of the
// inventory, in certDir.
func FilesOf(certDir string, e pki.Entry) Files {
	s, base := pki.Store{Dir: certDir}, e.BaseName
	f := Files{Key: s.KeyPath(base), OldKey: s.KeyPath(base + ".old"), NewKey: s.KeyPath(base + ".new"),
		Record: filepath.Join(certDir, RecordPrefix+e.Name+".json")}
	if e.Kind == pki.KindKeyPair {
		f.Trust = s.PublicKeyPath(base)
		return f
	}
	f.Trust, f.OldCert, f.NewCert = s.CertPath(base), s.CertPath(base+".old"), s.CertPath(base+".new")
	return f
}

// SigningCert is the certificate kube-controller-manager signs with at
// stage, one certificate as its signer needs: the old CA alone at trust,
// the new one alone at reissue, the trust file (one CA again) after the
// rotation.
func (f Files) SigningCert(stage string) string {
	switch stage {
	case StageTrust:
		return f.OldCert
	case StageReissue:
		return f.NewCert
	}
	return f.Trust
}
