package copycerts

import "io"

// Encrypt seals data under a certificate key (ParseKey) as the
// kubeadm-certs Secret's values are sealed: AES-256-GCM with a random
// nonce read from rand in front. Other workflows that carry secrets
// through the cluster (CA rotation's new CA) use it, so that one
// certificate key format and one cipher serve every certctl Secret.
func Encrypt(rand io.Reader, key, data []byte) ([]byte, error) { return encrypt(rand, key, data) }

// Decrypt opens what Encrypt sealed; it fails for another key or for
// data that was changed.
func Decrypt(key, data []byte) ([]byte, error) { return decrypt(key, data) }
