package external

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// status is what examine found for a target.
type status int

const (
	absent   status = iota // nothing for it in the CSR folder
	pending                // a CSR, no signed certificate yet
	accepted               // a certificate that passed every check
	refused                // a certificate that did not; see the error
)

// candidate is a signed certificate of the CSR folder, checked, with the
// files that install it.
type candidate struct {
	renewal.Target
	certFile string // where the signed certificate was found
	cert     *x509.Certificate
	files    []txn.File // what replaces the target's files
	replaced []string   // the existing files they replace, to back up
	// unchanged is true when the target's files already hold exactly
	// this certificate and key (an import run again).
	unchanged bool
	warnings  []string
}

// authority is a CA certificate of the certificate folder, read once.
type authority struct {
	path   string
	bundle []*x509.Certificate // every certificate of the file; the first is the CA
	err    error               // why no certificate can be checked against it
}

// examine looks for t's signed certificate in the CSR folder and checks it
// against its request, key and CA. A refusal is returned as the error,
// whose message is the precise reason.
func (im *importer) examine(t renewal.Target) (*candidate, status, error) {
	f := im.csrFiles(t)
	req, err := im.request(t, &f)
	if err != nil {
		return nil, refused, err
	}
	certs, certFile, err := signed(f)
	if errors.Is(err, fs.ErrNotExist) {
		if ok, _ := pki.Exists(f.CSR); ok {
			return &candidate{Target: t, certFile: f.Cert}, pending, nil
		}
		if ok, _ := pki.Exists(f.Key); ok {
			// A --use-csr run stopped between the key and its CSR: left
			// out without a word, the certificate would never be renewed.
			return &candidate{Target: t, certFile: f.Cert}, refused, fmt.Errorf("%s has neither its CSR %s nor a signed certificate %s: a --use-csr run stopped before the CSR; make them again (%s), have the CSR signed, and import it; or, if the CSR went to your CA, put the certificate it signs as %s",
				f.Key, filepath.Base(f.CSR), filepath.Base(f.Cert), im.remake(t), f.Cert)
		}
		return nil, absent, nil
	}
	c := &candidate{Target: t, certFile: certFile}
	if err != nil {
		return c, refused, err
	}
	// Read once, for leafFirst and the install; a key that cannot be read
	// is refused after the weak-key check, as before.
	key, keyPEM, keyErr := readNewKey(f)
	if keyErr == nil {
		var moved bool
		if certs, moved = leafFirst(certs, key.Public()); moved {
			c.warnings = append(c.warnings, fmt.Sprintf("%s holds the certificate of its key, but not first: it is installed first, then its issuers, as TLS needs", certFile))
		}
	}
	c.cert = certs[0]
	// A weak key would be installed and then fail every TLS handshake of
	// the component (issue 13): refused as the signer refuses it.
	if err := policy.Key("the key of "+certFile, c.cert.PublicKey, false); err != nil {
		return c, refused, fmt.Errorf("%w: make a new key and CSR (remove %s and %s, then %s) and have it signed again", err, f.Key, f.CSR, im.remake(t))
	}
	if keyErr != nil {
		return c, refused, keyErr
	}
	if !pki.SamePublicKey(c.cert.PublicKey, key.Public()) {
		if other := im.keyOwner(t, c.cert.PublicKey); other != nil {
			return c, refused, fmt.Errorf("it is the certificate signed for the CSR of %s (its key is %s), not for %s: put it at %s, and have %s signed", other.Name, other.Key, filepath.Base(f.CSR), other.Cert, f.CSR)
		}
	}
	want, err := im.want(t, req, f, key)
	if err != nil {
		return c, refused, err
	}
	ca := im.authority(t)
	if ca.err != nil {
		return c, refused, ca.err
	}
	if req != nil && req.CA.SHA256 != "" && req.CA.SHA256 != reqfile.Fingerprint(ca.bundle[0]) {
		if hint := im.rotatedRequest(t, req, f, ca); hint != "" {
			return c, refused, errors.New(hint)
		}
		return c, refused, fmt.Errorf("%s was made for the CA %q with SHA-256 fingerprint %s, but %s is another certificate (%s): put the CA certificate back, or make a new request", f.Request, req.CA.Subject, req.CA.SHA256, ca.path, reqfile.Fingerprint(ca.bundle[0]))
	}
	// What was asked must be what the inventory gives t: an edited
	// request file asked for, and got, O=system:masters.
	asked := f.CSR
	if req != nil {
		asked = f.Request
	}
	askErr := im.checkAsked(t, want, asked, ca)
	if askErr == nil && req != nil {
		askErr = im.keepsCSRSANs(t, want, f)
	}
	if err := pki.VerifyIssued(certs[0], certs[1:], key.Public(), ca.bundle[0], want, im.now); err != nil {
		if !pki.SamePublicKey(c.cert.PublicKey, key.Public()) {
			err = fmt.Errorf("%w; %s", err, im.keyHint(t, c.cert, f, certFile, ca))
		}
		if hint := im.signerHint(t, certs, f, certFile, ca); hint != "" {
			err = fmt.Errorf("%w; %s", err, hint)
		}
		// Every problem in one round trip to the CA operator.
		if perr := policy.Issued(certs[0], want); perr != nil {
			err = fmt.Errorf("%w; also %w", err, perr)
		}
		if askErr != nil {
			err = fmt.Errorf("%w; also %w", err, askErr)
		}
		return c, refused, err
	}
	if askErr != nil {
		return c, refused, askErr
	}
	// What certctl's own signers never issue, an external CA's certificate
	// may not bring in either (issue 13: one policy for every path).
	if err := policy.Issued(certs[0], want); err != nil {
		return c, refused, err
	}
	if certs[0].NotAfter.After(ca.bundle[0].NotAfter) {
		c.warnings = append(c.warnings, fmt.Sprintf("%s outlives its CA %s: it is trusted only until %s", certFile, ca.path, ca.bundle[0].NotAfter.UTC().Format("2006-01-02")))
	}
	if err := im.installFiles(c, f, pki.EncodeCerts(certs...), keyPEM, ca); err != nil {
		return c, refused, err
	}
	// A CSR folder of an earlier renewal, imported again after a later
	// one, would take the node back to certificates that expire sooner;
	// a certificate issued since the one in force expires sooner when the
	// CA signs for less time (Vault's and ACME-style CAs issue for days).
	if cur := im.current(t, ca); !c.unchanged && cur != nil && certs[0].NotAfter.Before(cur.NotAfter) {
		why := fmt.Sprintf("is %s an earlier renewal's folder? Then do not import it", im.o.CSRDir)
		if !certs[0].NotBefore.Before(cur.NotBefore) {
			days := int(math.Round(certs[0].NotAfter.Sub(certs[0].NotBefore).Hours() / 24))
			why = fmt.Sprintf("it was issued after that one, for %d days: your CA signed it for less time than before; renew it in time", days)
		}
		c.warnings = append(c.warnings, fmt.Sprintf("%s expires on %s, before the certificate it replaces, %s (until %s): %s; after an import, `certctl restore` puts back what it replaced",
			certFile, certs[0].NotAfter.UTC().Format(time.RFC3339), t.File(im.o.CertDir, im.o.KubeconfigDir), cur.NotAfter.UTC().Format(time.RFC3339), why))
	}
	return c, accepted, nil
}

// signerHint says who signed certs (a certificate file: the leaf, then its
// intermediates) and what to do, when t's CA did not: another CA of the
// certificate folder, one a rotation stopped signing with, or a CA whose
// certificate is missing from the file. "" when t's CA did: another CA of
// the folder may be the same certificate (one CA for every role), which
// is no reason to have it signed again.
func (im *importer) signerHint(t renewal.Target, certs []*x509.Certificate, f reqfile.Files, certFile string, ca *authority) string {
	if pki.VerifySignedBy(certs[0], certs[1:], ca.bundle[0], im.now) == nil {
		return ""
	}
	if hint := im.otherCA(t, certs, f, ca); hint != "" {
		return hint
	}
	if hint := im.rotatedSigner(t, certs, f, ca); hint != "" {
		return hint
	}
	return chainHint(certs, ca.bundle[0], ca.path, certFile, im.now)
}

// request reads t's request file, when there is one, and points f at the
// files it names.
func (im *importer) request(t renewal.Target, f *reqfile.Files) (*reqfile.Request, error) {
	ok, err := pki.Exists(f.Request)
	if err != nil || !ok {
		return nil, err
	}
	data, err := pki.ReadFile(f.Request)
	if err != nil {
		return nil, fmt.Errorf("read request file %s: %w", f.Request, err)
	}
	req, err := reqfile.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parse request file %s: %w: write it again with the command that wrote it, for %s and with the same --csr-dir (`certctl renew %s --use-csr`, or on a first installation `certctl init-phase certs` or `kubeconfig` with --use-csr), which keeps its key and CSR", f.Request, err, t.Name, t.Name)
	}
	if req.Name != t.Name {
		return nil, fmt.Errorf("%s is the request for %q, not %q: put each request file back where certctl wrote it", f.Request, req.Name, t.Name)
	}
	*f, err = f.Named(req)
	return req, err
}

// signed reads the signed certificate of f, the leaf then any
// intermediates, and the file it is in: NAME.crt, else the key's file when
// it holds one (a kubeconfig's client-certificate-data, where kubeadm's
// documentation has the operator put it). It returns an error wrapping
// fs.ErrNotExist when there is none.
func signed(f reqfile.Files) ([]*x509.Certificate, string, error) {
	file := f.Cert
	data, err := pki.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		if d := f.Slot.Signed(f.Key); len(d) > 0 {
			data, file, err = d, f.Key, nil
		}
	}
	if err != nil {
		return nil, file, fmt.Errorf("read %s: %w", file, err)
	}
	certs, err := parseHandedBack(data)
	if err != nil {
		return nil, file, notPEM(file, data, err)
	}
	return certs, file, nil
}

// readNewKey reads the key the CSR was made with, and its PEM as it is to
// be installed.
func readNewKey(f reqfile.Files) (crypto.Signer, []byte, error) {
	key, keyPEM, err := f.Slot.ReadKey(f.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("its key: %w: a certificate is installed only with the key its CSR was made with", err)
	}
	return key, keyPEM, nil
}

// want is what t's certificate must say: what its request file asks for,
// else what its CSR asks for with the usages of kubeadm's inventory. The
// inventory's extended key usages are required either way, so that an
// edited request cannot drop, say, the API server's server auth; and
// checkAsked refuses a subject or usage the inventory does not give t, so
// that an edited request cannot add one either.
func (im *importer) want(t renewal.Target, req *reqfile.Request, f reqfile.Files, key crypto.Signer) (pki.Profile, error) {
	e, _ := im.inv.Find(t.Name)
	inv := e.ExtKeyUsages
	if req != nil {
		if req.CA.Name != t.CAName {
			return pki.Profile{}, fmt.Errorf("%s asks for the CA %q, but %s is signed by %q: make a new request", f.Request, req.CA.Name, t.Name, t.CAName)
		}
		p, err := req.Profile()
		if err != nil {
			return pki.Profile{}, err
		}
		for _, u := range inv {
			if !slices.Contains(p.ExtKeyUsages, u) {
				p.ExtKeyUsages = append(p.ExtKeyUsages, u)
			}
		}
		return p, nil
	}
	csr, err := pki.ReadCSRFile(f.CSR)
	if errors.Is(err, fs.ErrNotExist) {
		return pki.Profile{}, fmt.Errorf("neither %s nor %s is there, so certctl cannot tell what was asked for: import from the folder where `certctl renew --use-csr` or `certctl init-phase certs --use-csr` wrote them", f.Request, f.CSR)
	}
	if err != nil {
		return pki.Profile{}, err
	}
	if !pki.SamePublicKey(csr.PublicKey, key.Public()) {
		return pki.Profile{}, fmt.Errorf("%s was not made with the key %s: put back the key the CSR was made with", f.CSR, f.Key)
	}
	p := pki.Profile{Name: t.Name, CAName: t.CAName, CommonName: csr.Subject.CommonName,
		Organization: csr.Subject.Organization, DNSNames: csr.DNSNames, ExtKeyUsages: inv}
	for _, ip := range csr.IPAddresses {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		p.IPs = append(p.IPs, ip)
	}
	return p, nil
}

// keepsCSRSANs refuses p, what t's request file f.Request asks for, when
// it leaves out a SAN of its CSR, which certctl wrote with it: the request
// file was edited by hand (the CA signs the SANs it lists, as
// docs/external-ca.md's sign.sh does), and the certificate would not serve
// a name the node's clients use (the API server's kubernetes.default.svc
// and service address, its advertise address). An edited request may add
// SANs. A request without its CSR is taken as it is.
func (im *importer) keepsCSRSANs(t renewal.Target, p pki.Profile, f reqfile.Files) error {
	csr, err := pki.ReadCSRFile(f.CSR)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var lost []string
	for _, n := range csr.DNSNames {
		if !slices.Contains(p.DNSNames, n) {
			lost = append(lost, n)
		}
	}
	for _, ip := range csr.IPAddresses {
		if !slices.ContainsFunc(p.IPs, ip.Equal) {
			lost = append(lost, ip.String())
		}
	}
	if len(lost) == 0 {
		return nil
	}
	return fmt.Errorf("%s does not ask for the SANs %s, which its CSR %s asks for: the request file was edited, or is from another run, and a certificate without them would not serve those names; write it again with %s, which keeps %s and %s, and have the CSR signed as the request file then says",
		f.Request, strings.Join(lost, ", "), filepath.Base(f.CSR), im.remake(t), f.Key, f.CSR)
}

// authority reads the CA certificate of t from the certificate folder.
func (im *importer) authority(t renewal.Target) *authority {
	if a, ok := im.cas[t.CAName]; ok {
		return a
	}
	a := &authority{path: pki.Store{Dir: im.o.CertDir}.CertPath(t.CABaseName)}
	im.cas[t.CAName] = a
	ca, err := pki.LoadCA(a.path, "", time.Time{})
	if ca != nil {
		a.bundle = ca.Bundle
	}
	switch pki.FaultOf(err) {
	case pki.CACertMissing:
		a.err = fmt.Errorf("the CA certificate %s is not there, so the certificate cannot be checked: put there the certificate of the CA that signs %s (only the certificate: its key stays with your CA)", a.path, t.CAName)
	case pki.CACertUnparsable:
		a.err = fmt.Errorf("%w: put the CA certificate there in PEM", err)
		if pki.SaysWhatToDo(err) {
			a.err = err
		}
	case pki.CANotCA:
		a.err = fmt.Errorf("%w; put the certificate of the CA that signs %s there", err, t.CAName)
	case pki.CACertUnreadable:
		a.err = err
	}
	return a
}

// installFiles sets c's files: those that put it in force as its target
// (renewal.Target.Place), and the existing ones they replace.
func (im *importer) installFiles(c *candidate, f reqfile.Files, certPEM, keyPEM []byte, ca *authority) error {
	files, err := c.Place(im.o.CertDir, im.o.KubeconfigDir, certPEM, keyPEM, pki.EncodeCerts(ca.bundle...), f.Key)
	if errors.Is(err, renewal.ErrNamesFiles) {
		return im.namesFiles(c, f, err)
	}
	if err != nil {
		return err
	}
	c.unchanged = true
	for _, f := range files {
		c.files = append(c.files, f.File)
		if f.Exists {
			c.replaced = append(c.replaced, f.Target)
		}
		c.unchanged = c.unchanged && f.Same
	}
	return nil
}

// namesFiles adds to err, the refusal of c's kubeconfig in force because
// it names its certificate files (kubelet.conf after the kubelet's TLS
// bootstrap: the kubelet rotates them itself), the two ways on: keep it,
// and drop the request f from the CSR folder (`init-phase kubeconfig
// --use-csr` writes none for such a file now, as kubeadm keeps it); or
// move it away, so that the import installs the CSR folder's kubeconfig,
// as on a first installation.
func (im *importer) namesFiles(c *candidate, f reqfile.Files, err error) error {
	path := c.File(im.o.CertDir, im.o.KubeconfigDir)
	drop := []string{f.Key, f.CSR, f.Request, c.certFile}
	drop = slices.Compact(slices.DeleteFunc(drop, func(p string) bool { ok, _ := pki.Exists(p); return !ok }))
	keep := "keep it as it is"
	if c.Name == pki.KubeletKubeconfig {
		keep = "keep it as it is (the kubelet renews those files itself)"
	}
	return fmt.Errorf("%w: to %s, remove this request from the CSR folder (rm %s), as `certctl init-phase kubeconfig --use-csr` writes none for such a file; to replace it with this certificate, move %s out of %s and import again, which installs the kubeconfig of the CSR folder in its place",
		err, keep, strings.Join(quoteAll(drop), " "), path, im.o.KubeconfigDir)
}

// quoteAll is each of paths quoted for a shell.
func quoteAll(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = output.ShellQuote(p)
	}
	return out
}

// remake is the command, quoted, that writes t's key and CSR into the
// CSR folder again, with the node's folders: `renew --use-csr` when t's
// certificate or kubeconfig is on the node, else (a first installation,
// where renew has nothing to renew) `init-phase certs|kubeconfig
// --use-csr`, which takes the SANs and server from the --config file.
func (im *importer) remake(t renewal.Target) string {
	return im.remakeIn(t, output.ShellQuote(im.dirOf(t)))
}

// remakeIn is remake with csrDir, quoted, for the CSR folder. renew does
// not renew kubelet.conf, so its command is init-phase's even when it is
// on the node.
func (im *importer) remakeIn(t renewal.Target, csrDir string) string {
	certDir, kcDir := output.ShellQuote(im.o.CertDir), output.ShellQuote(im.o.KubeconfigDir)
	e, _ := im.inv.Find(t.Name)
	if ok, err := pki.Exists(t.File(im.o.CertDir, im.o.KubeconfigDir)); (err != nil || ok) && e.NotRenewed == "" {
		return fmt.Sprintf("`certctl renew %s --use-csr --csr-dir %s --cert-dir %s --kubeconfig-dir %s`", t.Name, csrDir, certDir, kcDir)
	}
	if t.Kubeconfig {
		return fmt.Sprintf("`certctl init-phase kubeconfig %s --use-csr --csr-dir %s --cert-dir %s --kubeconfig-dir %s` with the --config of the first run", strings.TrimSuffix(t.BaseName, ".conf"), csrDir, certDir, kcDir)
	}
	return fmt.Sprintf("`certctl init-phase certs %s --use-csr --csr-dir %s --cert-dir %s` with the --config of the first run", t.Name, csrDir, certDir)
}

// keyHint says whose key cert, which is not for its new key f.Key, is
// for, and what to do: the key of the certificate in force (the CA signed
// that one again instead of the CSR), or another one.
func (im *importer) keyHint(t renewal.Target, cert *x509.Certificate, f reqfile.Files, certFile string, ca *authority) string {
	if cur := im.current(t, ca); cur != nil && pki.SamePublicKey(cur.PublicKey, cert.PublicKey) {
		return fmt.Sprintf("it is for the key of the certificate in force %s, not for the new key %s that %s was made with (was the certificate in force signed again instead of the CSR?): have %s signed, and put what your CA returns at %s",
			t.File(im.o.CertDir, im.o.KubeconfigDir), f.Key, filepath.Base(f.CSR), f.CSR, certFile)
	}
	return fmt.Sprintf("it is for another key than %s, the one %s was made with: have %s signed, and put what your CA returns at %s", f.Key, filepath.Base(f.CSR), f.CSR, certFile)
}

// otherCA says which other CA of the certificate folder signed certs (a
// certificate file: the leaf, then its intermediates), when one did: the
// CA operator signed with the wrong CA's key (etcd-ca's for a certificate
// of ca, say), which chainHint would take for an intermediate left out.
// "" when none did.
func (im *importer) otherCA(t renewal.Target, certs []*x509.Certificate, f reqfile.Files, ca *authority) string {
	for _, e := range im.inv.Select(false, pki.KindCA) {
		if e.Name == t.CAName {
			continue
		}
		other := im.authority(renewal.Target{CAName: e.Name, CABaseName: e.BaseName})
		if other.err != nil || len(other.bundle) == 0 || pki.VerifySignedBy(certs[0], certs[1:], other.bundle[0], im.now) != nil {
			continue
		}
		return fmt.Sprintf("it is signed by the CA %s (%s), but the components check %s against the CA %s (%s): have %s signed by %s, as its request asks",
			e.Name, other.path, t.Name, t.CAName, ca.path, f.CSR, t.CAName)
	}
	return ""
}

// owner is a target of the CSR folder and its files.
type owner struct {
	Name string
	reqfile.Files
}

// keyOwner is the target other than t whose new key in the CSR folder is
// pub's, nil when none is: a certificate put in the place of another's.
func (im *importer) keyOwner(t renewal.Target, pub crypto.PublicKey) *owner {
	for _, o := range im.targets {
		if o.Name == t.Name {
			continue
		}
		f := im.csrFiles(o)
		if req, err := reqfile.Read(f.Request); err == nil && req.Name == o.Name {
			if named, err := f.Named(req); err == nil {
				f = named
			}
		}
		if key, _, err := f.Slot.ReadKey(f.Key); err == nil && pki.SamePublicKey(key.Public(), pub) {
			return &owner{Name: o.Name, Files: f}
		}
	}
	return nil
}
