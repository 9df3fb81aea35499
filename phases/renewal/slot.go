package renewal

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// slot is where a target's certificate and key live, kubeadm's
// certificateReadWriter (cmd/kubeadm/app/phases/certs/renewal/readwriter.go):
// a pair of files of the certificate folder, or a kubeconfig file with the
// client certificate and key embedded. Renew reads, backs up and writes
// every target through its slot.
type slot interface {
	// read reads the slot, whose certificate file is it.cert already, into
	// it.old, it.inter and it.oldKey.
	read(it *item) error
	// replaced lists the files a new certificate replaces: the key's too
	// unless reuseKey.
	replaced(it *item, reuseKey bool) []*oldFile
	// write returns the files that hold cert and key, the current key when
	// key is nil, each with the mode and owner of the file it replaces.
	write(it *item, cert *x509.Certificate, key crypto.Signer) ([]txn.File, error)
	// current returns the certificate in the file at path, nil when it
	// cannot be read.
	current(path string) *x509.Certificate
	// keyFile is the file that holds the private key, as read.
	keyFile(it *item) *oldFile
}

// private is f as a file that holds a private key: readable by its owner
// only, whatever the mode of the file it replaces (kubeadm and certctl write
// keys 0600; a looser one is tightened, and Renew says so).
func private(f txn.File) txn.File {
	f.Mode &^= 0o077
	return f
}

// loose reports whether f, a file that holds a private key, may be read or
// written by group or others.
func loose(f *oldFile) bool { return f.mode.Perm()&0o077 != 0 }

// slotOf returns t's slot in certDir.
func slotOf(t Target, certDir string) slot {
	if t.Kubeconfig {
		return &kubeconfigSlot{}
	}
	return &pairSlot{keyPath: pki.Store{Dir: certDir}.KeyPath(t.BaseName)}
}

// pairSlot is NAME.crt and NAME.key.
type pairSlot struct {
	keyPath string
	key     *oldFile
}

func (s *pairSlot) read(it *item) error {
	certs, err := pki.ParseCerts(it.cert.data)
	if err != nil {
		return fmt.Errorf("parse certificate %s: %w: restore it from a backup, or remove it and its key and run `certctl init-phase %s`", it.path, err, initPhase(it.Target))
	}
	it.old, it.inter = certs[0], certs[1:]
	if s.key, err = readOld(s.keyPath); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s exists but its key %s does not: restore the key from a backup, or remove the certificate and run `certctl init-phase %s`", it.path, s.keyPath, initPhase(it.Target))
	} else if err != nil {
		return err
	}
	if it.oldKey, err = pki.ParsePrivateKey(s.key.data); errors.Is(err, pki.ErrEncryptedKey) {
		// The key is intact: no backup is needed, only its passphrase.
		return fmt.Errorf("%s: %s", s.keyPath, strings.TrimPrefix(strings.ReplaceAll(err.Error(), "KEY", s.keyPath), "pki: "))
	} else if err != nil {
		return fmt.Errorf("parse private key %s: %w: restore it from a backup, or remove it and its certificate and run `certctl init-phase %s`", s.keyPath, err, initPhase(it.Target))
	}
	if pki.KeyMatches(it.old, it.oldKey) != nil {
		return fmt.Errorf("%s does not match the certificate %s: restore the matching pair from a backup, or remove both and run `certctl init-phase %s`", s.keyPath, it.path, initPhase(it.Target))
	}
	return nil
}

func (s *pairSlot) replaced(it *item, reuseKey bool) []*oldFile {
	if reuseKey && !loose(s.key) { // with --reuse-key the key is kept, unless its mode must be tightened
		return []*oldFile{it.cert}
	}
	return []*oldFile{it.cert, s.key}
}

func (s *pairSlot) keyFile(*item) *oldFile { return s.key }

func (s *pairSlot) write(it *item, cert *x509.Certificate, key crypto.Signer) ([]txn.File, error) {
	files := []txn.File{like(it.cert, pki.EncodeCert(cert))}
	if key != nil {
		keyPEM, err := pki.MarshalPrivateKey(key)
		if err != nil {
			return nil, err
		}
		files = append(files, private(like(s.key, keyPEM)))
	} else if loose(s.key) {
		files = append(files, private(like(s.key, s.key.data)))
	}
	return files, nil
}

func (s *pairSlot) current(path string) *x509.Certificate {
	cert, _, err := pki.ReadCertFile(path)
	if err != nil {
		return nil
	}
	return cert
}

// kubeconfigSlot is a kubeconfig file with an embedded client certificate
// and key.
type kubeconfigSlot struct {
	cfg *clientcmdapi.Config
}

func (s *kubeconfigSlot) read(it *item) error {
	cfg, err := kubeconfig.Load(it.path)
	if err != nil {
		return fmt.Errorf("%w: restore it from a backup, or remove it and run `certctl init-phase %s`", err, initPhase(it.Target))
	}
	cert, key, err := kubeconfig.ClientCert(cfg)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w: certctl renews embedded client certificates only; remove the file and run `certctl init-phase %s` to make one", it.path, err, initPhase(it.Target))
	}
	if pki.KeyMatches(cert, key) != nil {
		return fmt.Errorf("kubeconfig %s: the embedded client key does not match the embedded certificate: restore the file from a backup, or remove it and run `certctl init-phase %s`", it.path, initPhase(it.Target))
	}
	s.cfg, it.old, it.oldKey = cfg, cert, key
	return nil
}

func (s *kubeconfigSlot) replaced(it *item, _ bool) []*oldFile { return []*oldFile{it.cert} }

// write changes only the client certificate, key and CA data
// (kubeconfig.SetClientCert): the CA data from ca.crt's bundle.
func (s *kubeconfigSlot) write(it *item, cert *x509.Certificate, key crypto.Signer) ([]txn.File, error) {
	var caPEM, keyPEM []byte
	for _, ca := range it.ca.bundle {
		caPEM = append(caPEM, pki.EncodeCert(ca)...)
	}
	if key != nil {
		var err error
		if keyPEM, err = pki.MarshalPrivateKey(key); err != nil {
			return nil, err
		}
	}
	data, err := kubeconfig.SetClientCert(s.cfg, it.path, caPEM, pki.EncodeCert(cert), keyPEM)
	if err != nil {
		return nil, err
	}
	return []txn.File{private(like(it.cert, data))}, nil
}

func (s *kubeconfigSlot) keyFile(it *item) *oldFile { return it.cert }

func (s *kubeconfigSlot) current(path string) *x509.Certificate {
	cfg, err := kubeconfig.Load(path)
	if err != nil {
		return nil
	}
	cert, _, err := kubeconfig.ClientCert(cfg)
	if err != nil {
		return nil
	}
	return cert
}

// like is the file that replaces old with data, with old's mode and owner.
func like(old *oldFile, data []byte) txn.File {
	return txn.File{Target: old.path, Data: data, Mode: old.mode, UID: old.uid, GID: old.gid}
}

// CSRFiles are t's files in the CSR folder csrDir (see reqfile.Slot); a
// new kubeconfig there points where current, t's file in force, does.
func (t Target) CSRFiles(csrDir, current string) reqfile.Files {
	if t.Kubeconfig {
		return reqfile.FilesOf(csrDir, t.BaseName, reqfile.KeyKubeconfig{From: current})
	}
	return reqfile.FilesOf(csrDir, t.BaseName, reqfile.KeyFile{})
}
