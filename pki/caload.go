package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"
)

// LoadedCA is a CA as read from its files.
type LoadedCA struct {
	CertFile, KeyFile string
	Cert              *x509.Certificate
	Bundle            []*x509.Certificate // every certificate of CertFile, in its order
	Key               crypto.Signer       // nil when no key file was asked for
	// KeyMode is the mode of KeyFile when LoadCA read it; 0 otherwise.
	KeyMode fs.FileMode
}

// LooseKey is the warning, one line, for a CA key file that LoadCA read
// and that group or others may read or write; "" otherwise. Every command
// that reads a CA key to sign with it gives it on its warning output.
func (ca *LoadedCA) LooseKey() string {
	if ca == nil || ca.KeyMode == 0 {
		return ""
	}
	return LooseKeyWarning(ca.KeyFile, ca.KeyMode)
}

// LooseKeyWarning is the warning, one line, for the private key file path
// of mode mode when group or others may read or write it, naming the chmod
// to run (kubeadm and certctl write keys 0600); "" when only its owner may.
// A CA key is never rewritten by the commands that read it, so the user
// must fix it.
func LooseKeyWarning(path string, mode fs.FileMode) string {
	if mode.Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("%s holds a private key but is mode %04o: make it readable by its owner only: chmod 600 %s", path, mode.Perm(), path)
}

// CAFault is the check a CA failed, for a caller that adds its own fix.
type CAFault int

// The checks of LoadCA, in the order it makes them.
const (
	CACertMissing CAFault = iota + 1
	CACertUnreadable
	CACertUnparsable
	CANotCA
	CAKeyMissing
	CAKeyUnreadable
	CAKeyUnparsable
	CAKeyMismatch
	CANotValid
)

// CAError is why LoadCA refuses a CA. Its message names the file and the
// fault; the caller adds what to do, which depends on the command.
type CAError struct {
	Fault CAFault
	msg   string
	err   error
}

func (e *CAError) Error() string { return e.msg }
func (e *CAError) Unwrap() error { return e.err }

// FaultOf returns the CAFault of err, 0 when err is no CAError.
func FaultOf(err error) CAFault {
	var e *CAError
	if errors.As(err, &e) {
		return e.Fault
	}
	return 0
}

func caErr(f CAFault, err error, format string, args ...any) *CAError {
	return &CAError{Fault: f, msg: fmt.Sprintf(format, args...), err: err}
}

// LoadCA reads the CA certificate file certFile (with the certificates
// after it) and, when keyFile is not "", its key, and checks that the
// certificate can sign (CAProblem), that the key is its key and, when now
// is not zero, that it is valid at now (ValidAt). It is certctl's one CA
// reader. It returns what it read even with an error, so that a report can
// go on checking; KeyMode, with LooseKey, says whether the key file is its
// owner's only.
func LoadCA(certFile, keyFile string, now time.Time) (*LoadedCA, error) {
	certPEM, err := ReadFile(certFile)
	if err != nil {
		f := CACertUnreadable
		if errors.Is(err, fs.ErrNotExist) {
			f = CACertMissing
		}
		return nil, caErr(f, err, "read CA certificate %s: %v", certFile, err)
	}
	var keyPEM []byte
	if keyFile != "" {
		if keyPEM, err = ReadFile(keyFile); err != nil {
			ca, cerr := ParseCA(certFile, certPEM, "", nil, now)
			if cerr != nil {
				return ca, cerr
			}
			f := CAKeyUnreadable
			if errors.Is(err, fs.ErrNotExist) {
				f = CAKeyMissing
			}
			return ca, caErr(f, err, "read CA key %s: %v", keyFile, err)
		}
	}
	ca, err := ParseCA(certFile, certPEM, keyFile, keyPEM, now)
	if ca != nil && keyFile != "" {
		// The mode of the file just read: a warning only, so a file
		// replaced in between at most gets the wrong one.
		if fi, serr := os.Stat(keyFile); serr == nil {
			ca.KeyMode = fi.Mode()
		}
	}
	return ca, err
}

// ParseCA makes the checks of LoadCA on the contents of the files, for a
// caller that compares the very bytes it read.
//
// During a CA rotation (docs/ca-rotation.md) the certificate file is a
// bundle of the old and the new CA: Cert is then the certificate of the
// bundle that matches the key, the one that signs, and Bundle keeps the
// file's order. certctl writes the signing CA first, as kubeadm reads it;
// the search only keeps a bundle written in another order from being
// taken for a key mismatch. Without a key file, Cert is the first.
func ParseCA(certFile string, certPEM []byte, keyFile string, keyPEM []byte, now time.Time) (*LoadedCA, error) {
	certs, err := parseCertsOf(certFile, certPEM)
	switch {
	case errors.Is(err, ErrNotPEM):
		return nil, caErr(CACertUnparsable, err, "CA certificate %s: %v", certFile, err)
	case err != nil:
		return nil, caErr(CACertUnparsable, err, "parse CA certificate %s: %v", certFile, err)
	}
	ca := &LoadedCA{CertFile: certFile, KeyFile: keyFile, Cert: certs[0], Bundle: certs}
	if keyFile != "" {
		key, kerr := ParsePrivateKey(keyPEM)
		if kerr == nil {
			ca.Cert = signingCert(certs, key)
		}
		if problem := CAProblem(ca.Cert); problem != "" {
			return ca, caErr(CANotCA, nil, "%s is not a CA certificate: %s", certFile, problem)
		}
		if kerr != nil {
			return ca, caErr(CAKeyUnparsable, kerr, "parse CA key %s: %v", keyFile, kerr)
		}
		ca.Key = key
		if KeyMatches(ca.Cert, ca.Key) != nil {
			return ca, caErr(CAKeyMismatch, nil, "the CA key %s does not match the CA certificate %s", keyFile, certFile)
		}
	} else if problem := CAProblem(ca.Cert); problem != "" {
		return ca, caErr(CANotCA, nil, "%s is not a CA certificate: %s", certFile, problem)
	}
	if !now.IsZero() {
		if err := ValidAt(ca.Cert, now); err != nil {
			return ca, caErr(CANotValid, err, "the CA %s cannot sign now: %v", certFile, err)
		}
	}
	return ca, nil
}

// signingCert is the certificate of bundle that key matches, the first
// when none does (the error then names the file).
func signingCert(bundle []*x509.Certificate, key crypto.Signer) *x509.Certificate {
	if i := slices.IndexFunc(bundle, func(c *x509.Certificate) bool { return KeyMatches(c, key) == nil }); i >= 0 {
		return bundle[i]
	}
	return bundle[0]
}
