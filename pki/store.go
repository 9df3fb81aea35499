package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/filekind"
)

// File modes, as kubeadm writes them (client-go's certutil.WriteCert and
// keyutil.WriteKey): certificates 0644, private keys and sa.pub 0600,
// directories 0755.
const (
	CertMode fs.FileMode = 0o644
	KeyMode  fs.FileMode = 0o600
	DirMode  fs.FileMode = 0o755
)

// Store is a certificate directory laid out as kubeadm lays out
// /etc/kubernetes/pki: BASE.crt and BASE.key, with the etcd files under etcd/.
// Every write is atomic (see internal/atomicfile).
type Store struct {
	Dir string
}

// CertPath is the path of BASE.crt.
func (s Store) CertPath(base string) string { return filepath.Join(s.Dir, base+".crt") }

// KeyPath is the path of BASE.key.
func (s Store) KeyPath(base string) string { return filepath.Join(s.Dir, base+".key") }

// PublicKeyPath is the path of BASE.pub.
func (s Store) PublicKeyPath(base string) string { return filepath.Join(s.Dir, base+".pub") }

// CSRPath is the path of BASE.csr.
func (s Store) CSRPath(base string) string { return filepath.Join(s.Dir, base+".csr") }

// Exists reports whether path exists; errors other than "not found" (for
// example an unreadable directory) are returned. A symbolic link that
// leads back to itself is one: "too many levels of symbolic links" named
// neither the link nor what to correct.
func Exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if dest, ok := filekind.LinkLoop(path); ok {
		return false, fmt.Errorf("%s is a symbolic link to %s, which leads back to itself (a loop of symbolic links): correct the link (ls -l %s) so that it leads to the file, or remove it: %w", path, dest, path, err)
	}
	return false, fmt.Errorf("check %s: %w", path, err)
}

// ReadCertFile reads a PEM certificate file: the first certificate and the
// ones after it (intermediates).
func ReadCertFile(path string) (*x509.Certificate, []*x509.Certificate, error) {
	certs, err := ReadParsed(path, "certificate", ParseCerts)
	if err != nil {
		return nil, nil, err
	}
	return certs[0], certs[1:], nil
}

// ReadKeyFile reads a PEM private key file.
func ReadKeyFile(path string) (crypto.Signer, error) {
	return ReadParsed(path, "private key", ParsePrivateKey)
}

// ReadParsed reads path with ReadFile and decodes it with parse; the errors
// name what the file holds and the file: "read WHAT PATH: ...", "parse
// WHAT PATH: ...".
func ReadParsed[T any](path, what string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	data, err := ReadFile(path)
	if err != nil {
		return zero, fmt.Errorf("read %s %s: %w", what, path, err)
	}
	v, err := parse(data)
	if err != nil {
		return zero, fmt.Errorf("parse %s %s: %w", what, path, err)
	}
	return v, nil
}

// ReadTLSPair is tls.LoadX509KeyPair through ReadFile, which refuses a
// FIFO or device instead of waiting on it, and names the files: a client
// certificate for a TLS connection.
func ReadTLSPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s and %s: %w", certFile, keyFile, err)
	}
	return c, nil
}

// ReadCert reads BASE.crt.
func (s Store) ReadCert(base string) (*x509.Certificate, []*x509.Certificate, error) {
	return ReadCertFile(s.CertPath(base))
}

// ReadKey reads BASE.key.
func (s Store) ReadKey(base string) (crypto.Signer, error) { return ReadKeyFile(s.KeyPath(base)) }

// ReadPublicKey reads BASE.pub.
func (s Store) ReadPublicKey(base string) (crypto.PublicKey, error) {
	return ReadParsed(s.PublicKeyPath(base), "public key", ParsePublicKey)
}

// WriteKey atomically writes BASE.key with mode 0600.
func (s Store) WriteKey(base string, key crypto.Signer) error {
	data, err := MarshalPrivateKey(key)
	if err != nil {
		return err
	}
	return s.write(s.KeyPath(base), data, KeyMode)
}

// WriteCert atomically writes BASE.crt (the certificate, then any
// intermediates) with mode 0644.
func (s Store) WriteCert(base string, certs ...*x509.Certificate) error {
	return s.write(s.CertPath(base), EncodeCerts(certs...), CertMode)
}

// WriteCSR atomically writes BASE.csr with mode 0600, as kubeadm does.
func (s Store) WriteCSR(base string, r *x509.CertificateRequest) error {
	return s.write(s.CSRPath(base), EncodeCSR(r), KeyMode)
}

// WritePublicKey atomically writes BASE.pub with mode 0600, as kubeadm does.
func (s Store) WritePublicKey(base string, pub crypto.PublicKey) error {
	data, err := MarshalPublicKey(pub)
	if err != nil {
		return err
	}
	return s.write(s.PublicKeyPath(base), data, KeyMode)
}

func (s Store) write(path string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), DirMode); err != nil {
		return fmt.Errorf("create directory %s: %w", filepath.Dir(path), err)
	}
	// atomicfile's errors name path already.
	return atomicfile.WriteFile(path, data, mode)
}
