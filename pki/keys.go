// Package pki makes and checks the keys, certificates and CSRs of a kubeadm
// control plane. It is pure: randomness and time are parameters, nothing here
// reads the clock or knows about commands.
package pki

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // to name a DSA key that openssl made, which crypto/x509 still parses in certificates
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"k8s.io/client-go/util/keyutil"
)

// KeyAlgorithm names a key type in kubeadm's spelling (encryptionAlgorithm).
type KeyAlgorithm string

// The key algorithms kubeadm v1.37 supports.
const (
	RSA2048   KeyAlgorithm = "RSA-2048"
	RSA3072   KeyAlgorithm = "RSA-3072"
	RSA4096   KeyAlgorithm = "RSA-4096"
	ECDSAP256 KeyAlgorithm = "ECDSA-P256"
	ECDSAP384 KeyAlgorithm = "ECDSA-P384"
)

// keyAlgorithms are the KeyAlgorithms above, which ParseKeyAlgorithm
// accepts and AlgorithmOf tells.
var keyAlgorithms = []KeyAlgorithm{RSA2048, RSA3072, RSA4096, ECDSAP256, ECDSAP384}

// ParseKeyAlgorithm accepts kubeadm's names; "" means RSA-2048, kubeadm's default.
func ParseKeyAlgorithm(s string) (KeyAlgorithm, error) {
	switch a := KeyAlgorithm(s); {
	case a == "":
		return RSA2048, nil
	case slices.Contains(keyAlgorithms, a):
		return a, nil
	}
	return "", fmt.Errorf("pki: unknown key algorithm %q: use RSA-2048, RSA-3072, RSA-4096, ECDSA-P256 or ECDSA-P384", s)
}

// GenerateKey makes a private key of the given algorithm.
func GenerateKey(rand io.Reader, alg KeyAlgorithm) (crypto.Signer, error) {
	switch alg {
	case RSA2048:
		return rsa.GenerateKey(rand, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand, 3072)
	case RSA4096:
		return rsa.GenerateKey(rand, 4096)
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand)
	}
	return nil, fmt.Errorf("pki: unknown key algorithm %q", alg)
}

// AlgorithmOf tells the algorithm of a public key, or "" for one kubeadm
// does not make (another RSA size, another curve, Ed25519): DescribeKey
// names each algorithm certctl makes by its KeyAlgorithm.
func AlgorithmOf(pub crypto.PublicKey) KeyAlgorithm {
	if a := KeyAlgorithm(DescribeKey(pub)); slices.Contains(keyAlgorithms, a) {
		return a
	}
	return ""
}

// MarshalPrivateKey encodes a key as kubeadm writes it: PKCS#1 "RSA PRIVATE
// KEY" for RSA, SEC 1 "EC PRIVATE KEY" for ECDSA.
func MarshalPrivateKey(key crypto.Signer) ([]byte, error) {
	b, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal private key: %w", err)
	}
	return b, nil
}

// ParsePrivateKey decodes the first private key in PEM data (PKCS#1, PKCS#8
// or SEC 1). Only RSA and ECDSA keys are accepted, as kubeadm does.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	k, err := keyutil.ParsePrivateKeyPEM(data)
	if err != nil {
		if encrypted(data) {
			return nil, ErrEncryptedKey
		}
		return nil, fmt.Errorf("pki: %w", err)
	}
	switch k.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
		return k.(crypto.Signer), nil
	}
	if s, ok := k.(crypto.Signer); ok {
		return nil, fmt.Errorf("pki: unsupported private key type %s: use RSA or ECDSA", DescribeKey(s.Public()))
	}
	return nil, fmt.Errorf("pki: unsupported private key type %T: use RSA or ECDSA", k)
}

// IsDERKey reports whether data is a private key in DER (PKCS#8, PKCS#1 or
// SEC 1), not the PEM that certctl and the components read: a CA on
// Windows hands its files out so.
func IsDERKey(data []byte) bool {
	_, err8 := x509.ParsePKCS8PrivateKey(data)
	_, err1 := x509.ParsePKCS1PrivateKey(data)
	_, errEC := x509.ParseECPrivateKey(data)
	return err8 == nil || err1 == nil || errEC == nil
}

// IsDERCertificate reports whether data is one certificate in DER, not
// PEM (a Windows CA's .cer file).
func IsDERCertificate(data []byte) bool {
	_, err := x509.ParseCertificate(data)
	return err == nil
}

// MarshalPublicKey encodes a public key as PKIX "PUBLIC KEY" PEM (sa.pub).
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal public key: %w", err)
	}
	return encodePEM("PUBLIC KEY", der), nil
}

// ParsePublicKey decodes the first public key in PEM data.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	keys, err := keyutil.ParsePublicKeysPEM(data)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return keys[0], nil
}

// SamePublicKey reports whether two public keys are equal.
func SamePublicKey(a, b crypto.PublicKey) bool {
	da, err1 := x509.MarshalPKIXPublicKey(a)
	db, err2 := x509.MarshalPKIXPublicKey(b)
	return err1 == nil && err2 == nil && bytes.Equal(da, db)
}

// DescribeKey names any public key for people by its type and size
// ("RSA-1024", "ECDSA-P224", "Ed25519"), in kubeadm's spelling, so the
// algorithms certctl makes get their KeyAlgorithm name and a table never
// shows an empty cell for a key it does not support.
func DescribeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA-" + strings.ReplaceAll(k.Curve.Params().Name, "-", "")
	case ed25519.PublicKey:
		return "Ed25519"
	case *dsa.PublicKey:
		return fmt.Sprintf("DSA-%d", k.P.BitLen())
	}
	return fmt.Sprintf("%T", pub)
}

// ErrEncryptedKey is returned by ParsePrivateKey for a key protected by a
// passphrase (PKCS#8 "ENCRYPTED PRIVATE KEY", or a legacy PEM with
// Proc-Type: 4,ENCRYPTED): the key is intact, but neither the control-plane
// components nor certctl can read it without the passphrase.
var ErrEncryptedKey = errors.New("pki: the private key is encrypted with a passphrase, which kube-apiserver, etcd and certctl cannot read: decrypt it in place (openssl pkey -in KEY -out KEY, giving the passphrase), keeping it mode 0600")

// EncryptedKeyMessage is ErrEncryptedKey's text for the key file path,
// which it names, with the command to decrypt it in place.
func EncryptedKeyMessage(path string) string {
	return path + ": " + strings.TrimPrefix(strings.ReplaceAll(ErrEncryptedKey.Error(), "KEY", path), "pki: ")
}

// encrypted reports whether PEM data holds an encrypted private key.
func encrypted(data []byte) bool {
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return false
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return true
		}
	}
}
