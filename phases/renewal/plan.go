package renewal

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/filekind"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// oldFile is a file as it was read, kept for the backup and to give the
// new file the same mode and owner.
type oldFile struct {
	path     string
	data     []byte
	mode     fs.FileMode
	uid, gid int
}

// authority is a CA as read from the certificate folder.
type authority struct {
	name, certPath, keyPath string
	*pki.LoadedCA                 // Bundle: every certificate of ca.crt, for kubeconfigs
	err                     error // why it cannot sign, reported for each of its leaves
}

// item is one target as found on disk, checked, with what renewing it takes.
type item struct {
	Target
	slot
	path   string   // the certificate file, or the kubeconfig file
	cert   *oldFile // the file at path
	old    *x509.Certificate
	inter  []*x509.Certificate // certificates after the leaf in its file
	oldKey crypto.Signer
	ca     *authority
	// issuer is the certificate of ca.Bundle that signed old: ca.Cert, or
	// during a CA rotation the CA it replaces.
	issuer *x509.Certificate
	alg    pki.KeyAlgorithm
	v      pki.Validity
	capped bool
	// sans, when set, are the SANs the new certificate gets instead of
	// old's (Options.SANs).
	sans *pki.Profile
}

// planner reads and checks everything before anything is generated or
// written, so that a bad file anywhere fails the run with every file as it
// was.
type planner struct {
	items    []*item
	byName   map[string]*item
	missing  []Target   // with SkipMissing
	external []External // with SkipExternal
	o        *Options
	now      time.Time
	cas      map[string]*authority
}

func newPlanner(o *Options, now time.Time) planner {
	return planner{o: o, now: now, byName: map[string]*item{}, cas: map[string]*authority{}}
}

// plan reads and checks t, and adds it to the items. A missing file is
// skipped when o.SkipMissing (renew all), an error otherwise; a CA key
// that is not on disk is skipped with o.SkipExternal and the CAs on disk
// as issuer.
func (p *planner) plan(t Target) error {
	it, err := p.read(t)
	if errors.Is(err, errMissing) && p.o.SkipMissing {
		p.missing = append(p.missing, t)
		return nil
	}
	var ext *externalCAError
	if errors.As(err, &ext) && p.o.SkipExternal && !p.o.external() {
		p.external = append(p.external, External{Target: t, CAKey: ext.keyPath})
		return nil
	}
	if err != nil {
		return fmt.Errorf("renew %s: %w", t.Name, err)
	}
	p.items = append(p.items, it)
	p.byName[t.Name] = it
	return nil
}

// errMissing marks a target whose file does not exist.
var errMissing = errors.New("missing")

// External is a target whose CA key is not on disk: an external CA signs
// it, through the certificates API (--use-api) or CSR files (--use-csr).
type External struct {
	Target
	CAKey string // the CA key file that is not there
}

// externalCAError is the error of a target whose CA key is not on disk.
type externalCAError struct {
	keyPath string
}

func (e *externalCAError) Error() string {
	return fmt.Sprintf("the CA key %s does not exist (external CA), so certctl cannot sign with it: renew through the cluster's certificates API with --use-api, or write a CSR for your CA with --use-csr", e.keyPath)
}

func (p *planner) read(t Target) (*item, error) {
	s := slotOf(t, p.o.CertDir, p.o.KubeconfigDir)
	it := &item{Target: t, slot: s, path: s.file()}
	var err error
	if it.cert, err = readOld(it.path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist: make it with `certctl init-phase %s`", errMissing, it.path, s.initPhase())
	} else if err != nil {
		return nil, err
	}
	if err := it.read(it); err != nil {
		return nil, err
	}
	if it.old.IsCA {
		return nil, fmt.Errorf("%s is a CA certificate, not a leaf: put the right file back from a backup", it.path)
	}
	if it.ca = p.authority(t); it.ca.err != nil {
		return nil, it.ca.err
	}
	if err := p.verifyCurrent(it); err != nil {
		var reissued *pki.ReissuedCAError
		if errors.As(err, &reissued) {
			return nil, fmt.Errorf("%s: %w; %s", it.path, err, reissued.Fix(it.ca.certPath))
		}
		if err := s.otherCA(it, func(chain []*x509.Certificate) bool {
			return pki.IssuedBy(chain[0], chain[1:], it.ca.Cert, p.now) == nil
		}); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s is not signed by the CA %s: restore the right CA or certificate from a backup, or remove %s and make a new one with `certctl init-phase %s`", it.path, it.ca.certPath, it.path, s.initPhase())
	}
	if p.o.external() {
		// What its Request asks the issuer for, which decides: for the
		// plan (Planned.NotAfter) only.
		it.v = pki.NewValidity(p.now, 0, p.o.validityOf(it.old, it.issuer))
	} else {
		it.v = pki.NewValidity(p.now, backdate, p.o.validityOf(it.old, it.issuer))
		if it.v, it.capped, err = pki.CapToCA(it.v, it.ca.Cert); err != nil {
			return nil, fmt.Errorf("cannot sign with the CA %s: %w", it.ca.certPath, err)
		}
		if it.v.NotAfter.Before(it.old.NotBefore) {
			// Time has passed since the current certificate was made:
			// its successor would have expired before this renewal ran.
			// A node without a battery-backed clock, booted before NTP
			// set it (a timer's catch-up run), sees the current one as
			// not valid yet, and so due.
			return nil, fmt.Errorf("%s is valid from %s, yet its renewal would end at %s on this host's clock (%s): this host's clock is behind the one that made it; set the clock right (timedatectl, NTP), then renew; nothing was changed",
				it.path, it.old.NotBefore.UTC().Format(time.RFC3339), it.v.NotAfter.UTC().Format(time.RFC3339), p.now.UTC().Format(time.RFC3339))
		}
	}
	if want, ok := p.o.SANs[t.Name]; ok {
		if err := checkDropped(it, want, p.o.DropSANs); err != nil {
			return nil, err
		}
		it.sans = &want
	}
	if p.o.ReuseKey {
		// Signing a weak key again keeps a certificate that the components
		// reject (kube-apiserver fails every handshake with it).
		if err := policy.Key("the key "+it.keyFile(it).path, it.oldKey.Public(), false); err != nil {
			return nil, fmt.Errorf("%w: renew without --reuse-key to make a new key", err)
		}
	}
	it.alg = p.o.KeyAlgorithm
	if p.o.ReuseKey || it.alg == "" {
		if it.alg = pki.AlgorithmOf(it.oldKey.Public()); it.alg == "" {
			it.alg = pki.RSA2048 // a key kubeadm would not make: replace it with kubeadm's default
		}
	}
	return it, nil
}

// verifyCurrent checks that it's current certificate is signed by its CA
// or by another CA of the bundle: with Options.CAs (a CA rotation), or in
// a rotation's ca.crt (the new CA, then the old one at reissue), which
// every client that reads the file trusts. The renewal signs it with the
// first, as kubeadm's `certs renew` does. It sets it.issuer.
func (p *planner) verifyCurrent(it *item) error {
	it.issuer = it.ca.Cert
	err := pki.VerifySignedBy(it.old, it.inter, it.ca.Cert, p.now)
	if refused := (*pki.RefusedCertError)(nil); errors.As(err, &refused) && refused.Renewable {
		return nil // the CA's own, refused for a SHA-1 signature, say, that renewal replaces
	}
	if err != nil {
		for _, ca := range it.ca.Bundle[1:] {
			if pki.IssuedBy(it.old, it.inter, ca, p.now) == nil { // the replaced CA may have expired
				it.issuer = ca
				return nil
			}
		}
	}
	return err
}

// checkDropped refuses new SANs want that leave out one of it's current
// SANs, unless drop: a client that reaches the component by that name or
// address would fail.
func checkDropped(it *item, want pki.Profile, drop bool) error {
	var lost []string
	for _, d := range it.old.DNSNames {
		if !slices.Contains(want.DNSNames, d) {
			lost = append(lost, d)
		}
	}
	for _, ip := range it.old.IPAddresses {
		if !slices.ContainsFunc(want.IPs, ip.Equal) {
			lost = append(lost, ip.String())
		}
	}
	if len(lost) == 0 || drop {
		return nil
	}
	return fmt.Errorf("%s has the SANs %s, which the configuration no longer asks for: add them to the configuration (for example apiServer.certSANs), or renew with --drop-sans to drop them", it.path, strings.Join(lost, ", "))
}

const fixPermissions = "run certctl as root, or fix the permissions of the file and its folders"

// withPermissionHint says what to do about a permission error.
func withPermissionHint(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w: %s", err, fixPermissions)
	}
	return err
}

// authority reads the CA of t once per run.
func (p *planner) authority(t Target) *authority {
	if a, ok := p.cas[t.CAName]; ok {
		return a
	}
	s := pki.Store{Dir: p.o.CertDir}
	a := &authority{name: t.CAName, certPath: s.CertPath(t.CABaseName), keyPath: s.KeyPath(t.CABaseName)}
	p.cas[t.CAName] = a
	a.err = p.readAuthority(a)
	return a
}

func (p *planner) readAuthority(a *authority) error {
	if ca, ok := p.o.CAs[a.name]; ok {
		a.LoadedCA = ca
		return nil
	}
	keyFile := a.keyPath
	if p.o.external() {
		keyFile = "" // the issuer signs: the CA key need not be here
	}
	var err error
	a.LoadedCA, err = pki.LoadCA(a.certPath, keyFile, p.now)
	switch pki.FaultOf(err) {
	case 0:
		return nil
	case pki.CACertMissing:
		return fmt.Errorf("its CA certificate %s does not exist: restore it from a backup", a.certPath)
	case pki.CACertUnreadable, pki.CAKeyUnreadable:
		if pki.SaysWhatToDo(err) {
			return err // a FIFO or a folder: it says to replace it; permissions are not the fault
		}
		return fmt.Errorf("%w: %s", err, fixPermissions)
	case pki.CACertUnparsable:
		if pki.SaysWhatToDo(err) {
			return err // DER, PKCS#7, ...: it says how to convert it
		}
	case pki.CANotCA:
		return fmt.Errorf("%w; restore the %s CA certificate from a backup", err, a.name)
	case pki.CANotValid:
		if a.LoadedCA != nil && p.now.Before(a.Cert.NotBefore) {
			// Not expired: this host's clock is behind the one that made
			// the CA. A rotation would make a CA on the wrong clock too.
			return fmt.Errorf("%w: this host's clock is behind the one that made it; set the clock right (timedatectl, NTP), then renew", err)
		}
		return fmt.Errorf("%w: certctl does not renew CAs; rotate the %s CA with `certctl ca rotate` (docs/ca-rotation.md), then renew", err, a.name)
	case pki.CAKeyMissing:
		if dest, ok := pki.DanglingLink(a.keyPath); ok {
			// A volume not mounted (an offline CA key), not an external
			// CA: a fault to report, not a certificate to skip.
			return fmt.Errorf("the CA key %s is a symbolic link to %s, which does not exist: mount the volume that holds it (or correct the link), then renew; or renew through the cluster's certificates API with --use-api, or write a CSR for your CA with --use-csr", a.keyPath, dest)
		}
		return &externalCAError{keyPath: a.keyPath}
	case pki.CAKeyMismatch:
		return fmt.Errorf("%w: restore the matching pair from a backup", err)
	}
	return fmt.Errorf("%w: restore it from a backup", err)
}

// readOld reads a file that certctl is to replace (or back up), with its
// mode and owner. It refuses what a transaction cannot replace (see
// txn.Replaceable): a symbolic link, which would be replaced itself while
// the file it points to kept the old certificate or key, and whose backup
// would be the link. A file that does not exist is an fs.ErrNotExist
// error; an error that permissions cause says what to do.
func readOld(path string) (*oldFile, error) {
	lst, err := txn.Replaceable(path)
	if err != nil {
		return nil, withPermissionHint(err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, withPermissionHint(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", path, err)
	}
	if lst == nil || !os.SameFile(lst, st) {
		// Created, or replaced by a link, since the Lstat: not under
		// certctl's lock, so by someone else.
		return nil, fmt.Errorf("%s changed while certctl read it: run certctl again", path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, withPermissionHint(fmt.Errorf("read %s: %w", path, err))
	}
	o := &oldFile{path: path, data: data, mode: st.Mode().Perm()}
	o.uid, o.gid = filekind.Owner(st)
	return o, nil
}
