package reqfile

import (
	"crypto"
	"fmt"
	"os"

	"github.com/certctl/certctl/pki"
)

// ExistingCSR reads what an earlier run left in a CSR folder for a
// certificate made as p: the key at keyPath, read by readKey (a key
// file, or for a kubeconfig a key-only kubeconfig), and the CSR at csrPath. It returns
// the key, nil when there is none, and whether the CSR is there and was
// made for p with that key, to be kept so that a CSR already handed out
// stays valid. A CSR without its key, of another key or for another
// certificate is an error that says what to remove. It is the one rule of
// init-phase --use-csr and renew --use-csr.
func ExistingCSR(keyPath, csrPath string, p pki.Profile, readKey func(path string) (crypto.Signer, error)) (key crypto.Signer, kept bool, err error) {
	keyOK, err := pki.Exists(keyPath)
	if err != nil {
		return nil, false, err
	}
	csrOK, err := pki.Exists(csrPath)
	if err != nil {
		return nil, false, err
	}
	if !keyOK {
		if csrOK {
			return nil, false, fmt.Errorf("%s exists without its key %s: it cannot be signed for any use; remove it (a CSR holds no secret), or use another --csr-dir", csrPath, keyPath)
		}
		return nil, false, nil
	}
	if key, err = readKey(keyPath); err != nil || !csrOK {
		return key, false, err
	}
	data, err := os.ReadFile(csrPath)
	if err != nil {
		return nil, false, fmt.Errorf("read certificate request %s: %w", csrPath, err)
	}
	csr, err := pki.ParseCSR(data)
	if err != nil {
		return nil, false, fmt.Errorf("parse certificate request %s: %w", csrPath, err)
	}
	if !pki.SamePublicKey(csr.PublicKey, key.Public()) {
		return nil, false, fmt.Errorf("%s does not match %s: remove both (and the certificate signed for them, if any) to make a new pair, or use another --csr-dir", csrPath, keyPath)
	}
	if d := pki.CSRDiffers(csr, p); d != "" {
		return nil, false, fmt.Errorf("%s was made for another certificate (%s): remove it and %s (and the certificate signed for them, if any) to make a new pair, or use another --csr-dir", csrPath, d, keyPath)
	}
	return key, true, nil
}
