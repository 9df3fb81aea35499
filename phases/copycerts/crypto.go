package copycerts

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// KeySize is the size of a certificate key in bytes: an AES-256 key, as
// kubeadm's CertificateKeySize (cmd/kubeadm/app/constants).
const KeySize = 32

// NewKey returns a new certificate key read from rand, hex-encoded as
// `kubeadm certs certificate-key` prints it.
func NewKey(rand io.Reader) (string, error) {
	b := make([]byte, KeySize)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("copycerts: make certificate key: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// PrintNewKey is `certctl certs certificate-key`: it writes a new key
// (NewKey) and a newline to w, and fails when the write does: a key lost
// to a full disk or a closed pipe must not exit 0, which a script takes for
// a key it has (then exit 141 for the pipe, as every command).
func PrintNewKey(w io.Writer, rand io.Reader) error {
	k, err := NewKey(rand)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(w, k); err != nil {
		return fmt.Errorf("write the certificate key: %w", err)
	}
	return nil
}

// ParseKey decodes a hex certificate key and checks its size, as kubeadm's
// ValidateCertificateKey does.
func ParseKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("the certificate key is empty: pass --certificate-key with the key the upload printed (make one with `certctl certs certificate-key`)")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid certificate key: %w: it is %d hex digits, as `certctl certs certificate-key` prints", err, 2*KeySize)
	}
	if len(b) != KeySize {
		return nil, fmt.Errorf("invalid certificate key: %d bytes, the key must be an AES key of %d bytes (%d hex digits, as `certctl certs certificate-key` prints)", len(b), KeySize, 2*KeySize)
	}
	return b, nil
}

// Encrypt seals data under a certificate key (ParseKey) with AES-GCM, with
// a random nonce read from rand put in front of the ciphertext: kubeadm's
// EncryptBytes (cmd/kubeadm/app/util/crypto), whose output kubeadm join
// decrypts. Other workflows that carry secrets through the cluster (CA
// rotation's new CA) use it, so that one certificate key format and one
// cipher serve every certctl Secret.
func Encrypt(rand io.Reader, key, data []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, fmt.Errorf("copycerts: make nonce: %w", err)
	}
	return gcm.Seal(nonce, nonce, data, nil), nil
}

// Decrypt opens what Encrypt (or kubeadm's EncryptBytes) sealed; it fails
// for another key or for data that was changed.
func Decrypt(key, data []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	n := gcm.NonceSize()
	if len(data) < n {
		return nil, errors.New("size of data is less than the nonce")
	}
	return gcm.Open(nil, data[:n], data[n:], nil)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("copycerts: %w", err)
	}
	return cipher.NewGCM(block)
}
