package renewal

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// slot is where a target's certificate and key live, kubeadm's
// certificateReadWriter (cmd/kubeadm/app/phases/certs/renewal/readwriter.go):
// a pair of files of the certificate folder, or a kubeconfig file with the
// client certificate and key embedded. Renew reads, backs up and writes
// every target through its slot.
type slot interface {
	// read reads the slot, whose certificate file is it.cert already, into
	// it.old, it.inter and it.oldKey.
	read(it *item) error
	// replaced lists the files a new certificate replaces: the key's too
	// unless reuseKey.
	replaced(it *item, reuseKey bool) []*oldFile
	// write returns the files that hold cert and key, the current key when
	// key is nil, each with the mode and owner of the file it replaces.
	write(it *item, cert *x509.Certificate, key crypto.Signer) ([]txn.File, error)
	// current returns the certificate in the slot's file, nil when it
	// cannot be read.
	current() *x509.Certificate
	// keyFile is the file that holds the private key, as read.
	keyFile(it *item) *oldFile
	// place returns the files that put certPEM and keyPEM in force (see
	// Target.Place).
	place(certPEM, keyPEM, caPEM []byte, base string) ([]Placed, error)
	// file is the file that holds the certificate; initPhase the
	// `certctl init-phase` command line that makes it anew.
	file() string
	initPhase() string
	// csrFiles are its files in the CSR folder csrDir (see reqfile.Slot).
	csrFiles(csrDir, baseName string) reqfile.Files
	// otherCA is the error of a slot whose certificate (read) its CA did
	// not sign, when the slot holds another that signed accepts, to use
	// instead; nil otherwise.
	otherCA(it *item, signed func(chain []*x509.Certificate) bool) error
}

// private is f as a file that holds a private key: readable by its owner
// only, whatever the mode of the file it replaces (kubeadm and certctl write
// keys 0600; a looser one is tightened, and Renew says so).
func private(f txn.File) txn.File {
	f.Mode &^= 0o077
	return f
}

// loose reports whether f, a file that holds a private key, may be read or
// written by group or others.
func loose(f *oldFile) bool { return f.mode.Perm()&0o077 != 0 }

// slotOf returns t's slot in certDir or kubeconfigDir: the one place that
// tells a pair of files from a kubeconfig.
func slotOf(t Target, certDir, kubeconfigDir string) slot {
	// The printed init-phase acts on these folders (init-phase certs has
	// no --kubeconfig-dir).
	if t.Kubeconfig {
		return &kubeconfigSlot{path: filepath.Join(kubeconfigDir, t.BaseName), phase: "kubeconfig " + strings.TrimSuffix(t.BaseName, ".conf") + config.FolderFlags(certDir, kubeconfigDir)}
	}
	st := pki.Store{Dir: certDir}
	return &pairSlot{path: st.CertPath(t.BaseName), keyPath: st.KeyPath(t.BaseName), phase: "certs " + t.Name + config.FolderFlags(certDir, "")}
}

// File is t's file: the certificate in certDir, or the kubeconfig file in
// kubeconfigDir.
func (t Target) File(certDir, kubeconfigDir string) string {
	return slotOf(t, certDir, kubeconfigDir).file()
}

// CSRFiles are t's files in the CSR folder csrDir (see reqfile.Slot); a
// new kubeconfig there points where t's in kubeconfigDir does.
func (t Target) CSRFiles(csrDir, certDir, kubeconfigDir string) reqfile.Files {
	return slotOf(t, certDir, kubeconfigDir).csrFiles(csrDir, t.BaseName)
}

// pairSlot is NAME.crt and NAME.key.
type pairSlot struct {
	path, keyPath, phase string
	key                  *oldFile
}

func (s *pairSlot) file() string      { return s.path }
func (s *pairSlot) initPhase() string { return s.phase }

func (s *pairSlot) csrFiles(csrDir, baseName string) reqfile.Files {
	return reqfile.FilesOf(csrDir, baseName, reqfile.KeyFile{})
}

func (s *pairSlot) otherCA(*item, func([]*x509.Certificate) bool) error { return nil }

// caFirst refuses the certificates of it's file when a CA certificate
// comes first and its leaf after it (pki.LeafAfterCA).
func caFirst(it *item, chain []*x509.Certificate) error {
	if _, err := pki.LeafAfterCA(it.path, it.Name, chain); err != nil {
		return fmt.Errorf("%w, and run again", err)
	}
	return nil
}

func (s *pairSlot) read(it *item) error {
	certs, err := pki.ParseCerts(it.cert.data)
	if err != nil {
		return fmt.Errorf("parse certificate %s: %w: restore it from a backup, or remove it and its key and run `certctl init-phase %s`", it.path, err, s.phase)
	}
	if err := caFirst(it, certs); err != nil {
		return err
	}
	it.old, it.inter = certs[0], certs[1:]
	if s.key, err = readOld(s.keyPath); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s exists but its key %s does not: restore the key from a backup, or remove the certificate and run `certctl init-phase %s`", it.path, s.keyPath, s.phase)
	} else if err != nil {
		return err
	}
	if it.oldKey, err = pki.ParsePrivateKey(s.key.data); errors.Is(err, pki.ErrEncryptedKey) {
		// The key is intact: no backup is needed, only its passphrase.
		return errors.New(pki.EncryptedKeyMessage(s.keyPath))
	} else if err != nil {
		return fmt.Errorf("parse private key %s: %w: restore it from a backup, or remove it and its certificate and run `certctl init-phase %s`", s.keyPath, err, s.phase)
	}
	if pki.KeyMatches(it.old, it.oldKey) != nil {
		return fmt.Errorf("%s does not match the certificate %s: restore the matching pair from a backup, or remove both and run `certctl init-phase %s`", s.keyPath, it.path, s.phase)
	}
	return nil
}

func (s *pairSlot) replaced(it *item, reuseKey bool) []*oldFile {
	if reuseKey && !loose(s.key) { // with --reuse-key the key is kept, unless its mode must be tightened
		return []*oldFile{it.cert}
	}
	return []*oldFile{it.cert, s.key}
}

func (s *pairSlot) keyFile(*item) *oldFile { return s.key }

func (s *pairSlot) write(it *item, cert *x509.Certificate, key crypto.Signer) ([]txn.File, error) {
	files := []txn.File{like(it.cert, pki.EncodeCert(cert))}
	if key != nil {
		keyPEM, err := pki.MarshalPrivateKey(key)
		if err != nil {
			return nil, err
		}
		files = append(files, private(like(s.key, keyPEM)))
	} else if loose(s.key) {
		files = append(files, private(like(s.key, s.key.data)))
	}
	return files, nil
}

func (s *pairSlot) current() *x509.Certificate {
	cert, _, _ := pki.ReadCertFile(s.path) // nil when it cannot be read
	return cert
}

func (s *pairSlot) place(certPEM, keyPEM, _ []byte, _ string) ([]Placed, error) {
	cert, err := placing(s.path, certPEM, pki.CertMode)
	if err != nil {
		return nil, err
	}
	key, err := placing(s.keyPath, keyPEM, pki.KeyMode)
	if err != nil {
		return nil, err
	}
	return []Placed{cert, key}, nil
}

// kubeconfigSlot is a kubeconfig file with an embedded client certificate
// and key.
type kubeconfigSlot struct {
	path, phase string
	cfg         *clientcmdapi.Config
}

func (s *kubeconfigSlot) file() string      { return s.path }
func (s *kubeconfigSlot) initPhase() string { return s.phase }

func (s *kubeconfigSlot) csrFiles(csrDir, baseName string) reqfile.Files {
	return reqfile.FilesOf(csrDir, baseName, reqfile.KeyKubeconfig{From: s.path})
}

func (s *kubeconfigSlot) read(it *item) error {
	cfg, err := kubeconfig.Load(it.path)
	if err != nil {
		return fmt.Errorf("%w: restore it from a backup, or remove it and run `certctl init-phase %s`", err, s.phase)
	}
	chain, key, err := kubeconfig.ClientChain(cfg)
	if err != nil {
		if fix := kubeconfig.SwitchBack(it.path, cfg); fix != "" {
			// Removing the file would lose the contexts the user added.
			return fmt.Errorf("kubeconfig %s: %w: certctl renews the current context's embedded client certificate only; %s", it.path, err, fix)
		}
		if _, _, userName, user, cerr := kubeconfig.Current(cfg); cerr == nil && kubeconfig.OtherCredentials(user) != "" {
			// The user's own credentials (an exec plugin, a token): removing
			// the file, as for a broken one, would lose them.
			return fmt.Errorf("kubeconfig %s: user %q of current context %q authenticates with %s, not an embedded client certificate, so certctl has nothing to renew in it: renew the others by name (certctl renew NAME...), or, to have kubeadm's file instead, move it away and run `certctl init-phase %s`", it.path, userName, cfg.CurrentContext, kubeconfig.OtherCredentials(user), s.phase)
		}
		return fmt.Errorf("kubeconfig %s: %w: certctl renews embedded client certificates only; remove the file and run `certctl init-phase %s` to make one", it.path, err, s.phase)
	}
	if err := caFirst(it, chain); err != nil {
		return err
	}
	if pki.KeyMatches(chain[0], key) != nil {
		return fmt.Errorf("kubeconfig %s: the embedded client key does not match the embedded certificate: restore the file from a backup, or remove it and run `certctl init-phase %s`", it.path, s.phase)
	}
	s.cfg, it.old, it.inter, it.oldKey = cfg, chain[0], chain[1:], key
	return nil
}

// otherCA: a context of another cluster was made current (merged into the
// file, then kubectl config use-context); removing the file, as for a
// certificate of another CA, would lose the contexts the user added.
func (s *kubeconfigSlot) otherCA(it *item, signed func(chain []*x509.Certificate) bool) error {
	if fix := kubeconfig.SwitchBackSigned(it.path, s.cfg, signed); fix != "" {
		return fmt.Errorf("kubeconfig %s: the client certificate of its current context %q is not signed by the CA %s: certctl renews the current context's client certificate only; %s", it.path, s.cfg.CurrentContext, it.ca.certPath, fix)
	}
	return nil
}

func (s *kubeconfigSlot) replaced(it *item, _ bool) []*oldFile { return []*oldFile{it.cert} }

// write changes only the client certificate, key and CA data
// (kubeconfig.SetClientCert): the CA data from ca.crt's bundle, when the
// cluster has CA data. One without trusts the system roots (a load
// balancer's public certificate) or skips verification, as the user chose.
func (s *kubeconfigSlot) write(it *item, cert *x509.Certificate, key crypto.Signer) ([]txn.File, error) {
	var caPEM, keyPEM []byte
	if hasCAData(s.cfg) {
		caPEM = pki.EncodeCerts(it.ca.Bundle...)
	}
	if key != nil {
		var err error
		if keyPEM, err = pki.MarshalPrivateKey(key); err != nil {
			return nil, err
		}
	}
	data, err := kubeconfig.SetClientCert(s.cfg, it.path, caPEM, pki.EncodeCert(cert), keyPEM)
	if err != nil {
		return nil, err
	}
	return []txn.File{private(like(it.cert, data))}, nil
}

func (s *kubeconfigSlot) keyFile(it *item) *oldFile { return it.cert }

func (s *kubeconfigSlot) current() *x509.Certificate {
	cfg, err := kubeconfig.Load(s.path)
	if err != nil {
		return nil
	}
	cert, _, _ := kubeconfig.ClientCert(cfg) // nil when it has none
	return cert
}

// hasCAData reports whether cfg's current cluster has
// certificate-authority-data.
func hasCAData(cfg *clientcmdapi.Config) bool {
	_, cluster, _, _, err := kubeconfig.Current(cfg)
	return err == nil && len(cluster.CertificateAuthorityData) != 0
}

// paths are the paths of files, in their order.
func paths(files []*oldFile) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.path
	}
	return out
}

// switchedAway refuses to install certPEM, signed by a CA of caPEM, into
// the kubeconfig cfg at path when the client certificate of its current
// context's user is another CA's and another context's is this CA's: a
// context of another cluster was made current since the CSR was written
// (kubectl config use-context), and the install would replace that
// cluster's user and CA data, leaving the old certificate in force.
func switchedAway(path string, cfg *clientcmdapi.Config, user *clientcmdapi.AuthInfo, certPEM, caPEM []byte) error {
	leaf, err := pki.ParseCerts(certPEM)
	if err != nil || len(user.ClientCertificateData) == 0 {
		return nil // checked elsewhere; a user without one is a first install
	}
	cas, err := pki.ParseCerts(caPEM)
	if err != nil {
		return nil
	}
	signed := func(chain []*x509.Certificate) bool {
		return slices.ContainsFunc(cas, func(ca *x509.Certificate) bool {
			return pki.VerifySignedBy(chain[0], chain[1:], ca, leaf[0].NotBefore) == nil
		})
	}
	if current, err := pki.ParseCerts(user.ClientCertificateData); err != nil || signed(current) {
		return nil
	}
	if fix := kubeconfig.SwitchBackSigned(path, cfg, signed); fix != "" {
		return fmt.Errorf("cannot install into %s: the client certificate of its current context %q is another CA's, not the one that signed the new certificate: %s", path, cfg.CurrentContext, fix)
	}
	return nil
}

// like is the file that replaces old with data, with old's mode and owner.
func like(old *oldFile, data []byte) txn.File {
	return txn.File{Target: old.path, Data: data, Mode: old.mode, UID: old.uid, GID: old.gid}
}

// ErrNamesFiles is what place refuses to install into: a kubeconfig whose
// user refers to certificate files (kubelet.conf after the kubelet's TLS
// bootstrap), which `certs import` says what to do about.
var ErrNamesFiles = errors.New("certctl installs embedded client certificates only")

// place fills the client certificate, key and CA data into the
// kubeconfig at path, else, for a first installation, into the one at
// base. The CA data is set on a first installation (also into a file at
// path that holds no client certificate yet) and refreshed where the
// cluster has some. Every other field is kept; a cluster that names a CA file keeps it.
// A user that refers to certificate files is refused: certctl installs
// embedded certificates only, atomically with their key.
func (s *kubeconfigSlot) place(certPEM, keyPEM, caPEM []byte, base string) ([]Placed, error) {
	path := s.path
	cfg, err := kubeconfig.Load(path)
	first := errors.Is(err, fs.ErrNotExist)
	from := path // the kubeconfig the fields come from
	if first {
		cfg, err = kubeconfig.Load(base)
		from = base
	}
	if err != nil {
		return nil, fmt.Errorf("cannot install into %s: %w", path, err)
	}
	clusterName, cluster, userName, user, err := kubeconfig.Current(cfg)
	switch {
	case err != nil:
		return nil, fmt.Errorf("cannot install into %s: kubeconfig %s: %w", path, from, err)
	case kubeconfig.OtherCredentials(user) != "":
		fix := kubeconfig.SwitchBack(path, cfg)
		if fix == "" {
			fix = "switch its current context to the user of the client certificate (kubectl config use-context), then run certctl again"
		}
		return nil, fmt.Errorf("cannot install into %s: kubeconfig %s: user %q of current context %q authenticates with %s, not a client certificate: %s", path, path, userName, cfg.CurrentContext, kubeconfig.OtherCredentials(user), fix)
	case user.ClientCertificate != "" || user.ClientKey != "":
		return nil, fmt.Errorf("cannot install into %s: kubeconfig %s: user %q refers to certificate files (client-certificate, client-key): %w", path, path, userName, ErrNamesFiles)
	case cluster.Server == "":
		return nil, fmt.Errorf("cannot install into %s: kubeconfig %s: its cluster %q has no server: set the API server's address with `kubectl --kubeconfig %s config set-cluster %s --server https://ADDRESS:PORT`, then run certctl again", path, from, clusterName, pki.ShellQuote(from), pki.ShellQuote(clusterName))
	}
	if first || len(user.ClientCertificateData) == 0 {
		if err := embedsCA(from, clusterName, cluster); err != nil {
			return nil, fmt.Errorf("cannot install into %s: %w", path, err)
		}
	}
	if !first {
		if err := switchedAway(path, cfg, user, certPEM, caPEM); err != nil {
			return nil, err
		}
		// A file in force left without CA data keeps none, as the user
		// left it (see write); one without a client certificate yet is a
		// first installation: `kubeadm certs generate-csr
		// --kubeconfig-dir` writes it there, key only, with no CA data
		// (kubeadm's kubeconfig phase refuses it until it has the CA's).
		if !hasCAData(cfg) && len(user.ClientCertificateData) != 0 {
			caPEM = nil
		}
	}
	data, err := kubeconfig.SetClientCert(cfg, path, caPEM, certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("cannot install into %s: %w", path, err)
	}
	f, err := placing(path, data, kubeconfig.Mode)
	return []Placed{f}, err
}

// embedsCA refuses, for a first installation, a kubeconfig (from) whose
// cluster would get no CA data: one that skips TLS verification or names
// a CA file keeps that (kubeconfig.SetClientCert), and its clients would
// not check the API server against ca.crt. kubeadm's kubeconfigs always
// embed the CA, and `kubeadm certs generate-csr` writes none of these
// fields; a file in force left so by its user keeps it (see write).
func embedsCA(from, clusterName string, cluster *clientcmdapi.Cluster) error {
	what, fix := "", ""
	switch {
	case cluster.InsecureSkipTLSVerify:
		what, fix = "skips TLS verification (insecure-skip-tls-verify)", "config set-cluster "+pki.ShellQuote(clusterName)+" --insecure-skip-tls-verify=false"
	case cluster.CertificateAuthority != "":
		what, fix = fmt.Sprintf("names the CA file %s (certificate-authority)", cluster.CertificateAuthority), "config unset "+pki.ShellQuote("clusters."+clusterName+".certificate-authority")
	default:
		return nil
	}
	return fmt.Errorf("kubeconfig %s: its cluster %q %s, and a kubeconfig certctl installs for the first time embeds ca.crt's CA data, as kubeadm's do: run `kubectl --kubeconfig %s %s`, then run certctl again", from, clusterName, what, pki.ShellQuote(from), fix)
}
