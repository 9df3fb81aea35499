package copycerts

import (
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TokenTTL is how long the bootstrap token that owns the Secret lives:
// kubeadm's DefaultCertTokenDuration. The token cleaner of
// kube-controller-manager deletes the token when it expires, and the
// garbage collector then deletes the Secret it owns.
const TokenTTL = 2 * time.Hour

// The bootstrap token Secret's format (k8s.io/cluster-bootstrap/token/api).
const (
	tokenSecretPrefix = "bootstrap-token-"
	tokenSecretType   = corev1.SecretType("bootstrap.kubernetes.io/token")
	tokenDescription  = "Proxy for managing TTL for the kubeadm-certs secret"
	tokenChars        = "abcdefghijklmnopqrstuvwxyz0123456789"
	tokenIDLength     = 6
	tokenSecretLength = 16
)

// tokenSecret returns the Secret of a new bootstrap token read from rand
// that expires at expires, as kubeadm's createShortLivedBootstrapToken
// makes it: an ID, a secret, a description and an expiration, no usage
// and no group, so that nobody can authenticate with it. It only carries
// the TTL.
func tokenSecret(rand io.Reader, expires time.Time) (*corev1.Secret, error) {
	id, err := randomString(rand, tokenIDLength)
	if err != nil {
		return nil, err
	}
	secret, err := randomString(rand, tokenSecretLength)
	if err != nil {
		return nil, err
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: tokenSecretPrefix + id, Namespace: Namespace},
		Type:       tokenSecretType,
		Data: map[string][]byte{
			"token-id":     []byte(id),
			"token-secret": []byte(secret),
			"description":  []byte(tokenDescription),
			"expiration":   []byte(expires.UTC().Format(time.RFC3339)),
		},
	}, nil
}

// randomString returns n characters of tokenChars, each uniform: bytes of
// 252 and above are drawn again, so that no character is likelier.
func randomString(rand io.Reader, n int) (string, error) {
	const limit = 256 - 256%len(tokenChars)
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for len(out) < n {
		if _, err := io.ReadFull(rand, buf); err != nil {
			return "", fmt.Errorf("copycerts: make bootstrap token: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, tokenChars[int(b)%len(tokenChars)])
			}
		}
	}
	return string(out), nil
}
