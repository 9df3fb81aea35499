package reqfile

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// Files are the files of one certificate's request in a CSR folder.
type Files struct {
	Slot Slot   // how the key is kept
	Dir  string // their folder: DIR, or DIR/etcd
	Base string // file name without extension: "server", "admin.conf"
	// Key holds the new key; CSR is the PKCS#10 request; Request the
	// request file; Cert where the CA operator puts the certificate.
	Key, CSR, Request, Cert string
}

// FilesOf are the files in csrDir of the certificate whose base name in
// the certificate or kubeconfig folder is baseName ("etcd/server",
// "admin.conf"): the folder layout mirrors the certificate folder's.
func FilesOf(csrDir, baseName string, s Slot) Files {
	dir := filepath.Join(csrDir, filepath.FromSlash(path.Dir(baseName)))
	base := path.Base(baseName)
	return Files{Slot: s, Dir: dir, Base: base, Key: filepath.Join(dir, s.KeyName(base)),
		CSR: filepath.Join(dir, base+".csr"), Request: Path(dir, base), Cert: filepath.Join(dir, base+".crt")}
}

// Named are f as the request file r names them, or an error when r is
// not a request for f's kind of key.
func (f Files) Named(r *Request) (Files, error) {
	key := f.Slot.keyOf(r)
	if key == "" {
		return f, fmt.Errorf("%s does not describe %s: put each request file back where certctl wrote it", f.Request, r.Name)
	}
	f.Key, f.CSR, f.Cert = filepath.Join(f.Dir, key), filepath.Join(f.Dir, r.CSR), filepath.Join(f.Dir, r.Certificate)
	return f, nil
}

// CSR is the request of one certificate in a CSR folder, as checked
// against what an earlier run left there (PlanCSR), to be written (Write).
// It is the one CSR writer of `init-phase --use-csr` and `renew
// --use-csr`.
type CSR struct {
	Files
	spec Spec
	// Key is a key an earlier run left: a kept pair's (Kept), or one
	// without its CSR, left by a run stopped between the two (the key is
	// written first), for which Write makes the CSR.
	Key  crypto.Signer
	Kept bool
	// keyMode is the mode of Key's file, to warn of a loose one.
	keyMode fs.FileMode
}

// PlanCSR checks what an earlier run left in f for the request s (its
// Profile, CA and validity; the file names come from f) and decides what
// Write does. It writes nothing.
//
// A key and CSR made for the same certificate are kept, so that a CSR
// already handed out stays valid: same key, same CN and O, and exactly the
// same SANs (pki.CSRDiffers). A CSR that lacks a SAN asked for now (after
// a change of apiServer.certSANs, say) would come back as a certificate
// that does not serve that name, and one with a SAN no longer asked for
// as one that check-expiration reports as drifted: both are refused, with
// what to remove, never reused. So are a CSR without its key, a signed
// certificate without the key it was signed for, and, when current (the
// public key of the certificate in force) is set, that key, whose request
// was imported already.
func PlanCSR(f Files, s Spec, current crypto.PublicKey) (*CSR, error) {
	c := &CSR{Files: f, spec: s}
	data, err := Marshal(c.request(nil))
	if err == nil {
		_, err = Parse(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s cannot be requested from an external CA: %w", s.Profile.Name, err)
	}
	keyOK, err := pki.Exists(f.Key)
	if err != nil {
		return nil, err
	}
	csrOK, err := pki.Exists(f.CSR)
	if err != nil {
		return nil, err
	}
	if !keyOK {
		if csrOK {
			return nil, fmt.Errorf("%s exists without its key %s: it cannot be signed for any use; remove it (a CSR holds no secret), or use another --csr-dir", f.CSR, f.Key)
		}
		if ok, err := pki.Exists(f.Cert); err != nil {
			return nil, err
		} else if ok {
			return nil, fmt.Errorf("%s exists without the key it was signed for: it is left from another request; remove it, or use another --csr-dir", f.Cert)
		}
		return c, nil
	}
	if c.Key, _, err = f.Slot.ReadKey(f.Key); err != nil {
		return nil, leftFix(err, fmt.Sprintf("remove it and %s (a new key needs a new CSR, and the certificate signed for them, if any), or use another --csr-dir", f.CSR))
	}
	if fi, err := os.Stat(f.Key); err == nil {
		c.keyMode = fi.Mode()
	}
	if err := policy.Key("the key "+f.Key, c.Key.Public(), false); err != nil {
		return nil, fmt.Errorf("%w: no CSR is written for it; remove it and %s to make a new key and CSR, or use another --csr-dir", err, f.CSR)
	}
	if current != nil && pki.SamePublicKey(current, c.Key.Public()) {
		return nil, fmt.Errorf("%s is the key of the certificate installed now: that request was imported already; use a new --csr-dir for a new renewal", f.Key)
	}
	if !csrOK {
		return c, nil
	}
	csr, err := pki.ReadCSRFile(f.CSR)
	if err != nil {
		return nil, leftFix(err, fmt.Sprintf("remove it (a CSR holds no secret): the next run writes a new CSR for the key %s", f.Key))
	}
	if !pki.SamePublicKey(csr.PublicKey, c.Key.Public()) {
		return nil, fmt.Errorf("%s does not match %s: remove both (and the certificate signed for them, if any) to make a new pair, or use another --csr-dir", f.CSR, f.Key)
	}
	if d := pki.CSRDiffers(csr, s.Profile); d != "" {
		return nil, fmt.Errorf("%s was made for another certificate (%s): remove it and %s (and the certificate signed for them, if any) to make a new pair, or use another --csr-dir", f.CSR, d, f.Key)
	}
	c.Kept = true
	return c, nil
}

// leftFix adds to err, about a file an earlier run left in the CSR folder
// that cannot be read, what to do; a permission error keeps its own.
func leftFix(err error, fix string) error {
	if errors.Is(err, fs.ErrPermission) {
		return err
	}
	return fmt.Errorf("%w: %s", err, fix)
}

// Write writes what PlanCSR decided, each file atomically: a new key from
// newKey unless one is there, then the CSR unless Kept, then the request
// file (rewritten only when it changed). An interrupted run so leaves a
// key without its CSR, which the next PlanCSR takes up, never a CSR
// without its key. It returns the key.
func (c *CSR) Write(rand io.Reader, newKey func() (crypto.Signer, error)) (crypto.Signer, error) {
	key := c.Key
	if key == nil {
		var err error
		if key, err = newKey(); err != nil {
			return nil, fmt.Errorf("generate key for %s: %w", c.spec.Profile.Name, err)
		}
		if err := c.Slot.WriteKey(c.Files.Key, key); err != nil {
			return nil, err
		}
	}
	if !c.Kept {
		r, err := pki.NewCSR(rand, c.spec.Profile, key)
		if err != nil {
			return nil, err
		}
		if err := (pki.Store{Dir: c.Dir}).WriteCSR(c.Base, r); err != nil {
			return nil, err
		}
	}
	if _, err := Write(c.Request, c.request(key.Public())); err != nil {
		return nil, err
	}
	return key, nil
}

// OtherAlgorithm warns, for a kept key whose algorithm is not want (""
// for any), that it is kept and how to make a pair of want; "" otherwise.
// The CSR may be at the CA already, so the key is not replaced unasked.
func (c *CSR) OtherAlgorithm(want pki.KeyAlgorithm) string {
	if !c.Kept || want == "" {
		return ""
	}
	if alg := pki.AlgorithmOf(c.Key.Public()); alg != want {
		return fmt.Sprintf("%s: the kept key %s is %s, not %s: remove %s and %s to make a %s pair", c.spec.Profile.Name, c.Files.Key, alg, want, c.Files.Key, c.CSR, want)
	}
	return ""
}

// LooseKey is pki.LooseKeyWarning's one line, with the chmod to run, for
// a key an earlier run left (Key) whose file group or others may read or
// write; "" otherwise. The key is reused, not rewritten, so its mode stays
// as it is unless the user fixes it, as init-phase says of the keys it
// keeps in the certificate folder.
func (c *CSR) LooseKey() string {
	if c.Key == nil || c.keyMode == 0 {
		return ""
	}
	return pki.LooseKeyWarning(c.Files.Key, c.keyMode)
}

// request is the request file's content for the new key's public key pub
// (nil to check the shape only).
func (c *CSR) request(pub crypto.PublicKey) *Request {
	s := c.spec
	s.CSR, s.Certificate, s.PublicKey = c.Base+".csr", c.Base+".crt", pub
	c.Slot.named(&s, c.Slot.KeyName(c.Base))
	return New(s)
}
