package expiration

import (
	"bytes"
	"cmp"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/debuglog"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
	"github.com/certctl/certctl/pki/policy"
)

// Options configure Check.
type Options struct {
	CertDir       string
	KubeconfigDir string
	// Cluster, when set (from --config), is what the SANs are compared with,
	// and with an external etcd the etcd certificates are not listed. When
	// nil there is no drift check.
	Cluster *config.Cluster
	// Inventory lists what is checked; pki.Kubeadm() when nil.
	Inventory pki.Inventory
	// EtcdExternal, when Cluster is nil, is etcd.external of --config for
	// a check that compares no SANs (certs list): as with Cluster, its files
	// are checked and the etcd certificates kubeadm makes are not listed.
	EtcdExternal *config.ExternalEtcd
	// ConfigFile names where Cluster came from, for messages.
	ConfigFile string
	// FolderFlags are the folder flags given (" --cert-dir DIR
	// --kubeconfig-dir DIR", quoted for a shell), which the printed renew
	// command repeats: without them it would renew the files of the
	// folders --config (certificatesDir) or the defaults name.
	FolderFlags string
	// ManifestDir is the kubelet's static pod folder, where
	// kube-controller-manager's manifest is read for its signing flags
	// during a CA rotation; "" for the folder beside CertDir
	// (/etc/kubernetes/manifests beside /etc/kubernetes/pki).
	ManifestDir string
	// Now is the instant of the check.
	Now time.Time
	// WarnWithin marks certificates expiring before Now+WarnWithin.
	WarnWithin time.Duration
	// Textfile, when set, is where Report also writes the report as
	// Prometheus metrics (WriteMetrics), atomically, for node_exporter's
	// textfile collector.
	Textfile string
}

// Check reads every certificate, kubeconfig and CA of the kubeadm inventory
// and reports their expiry and problems. It only reads. A file that cannot
// be read is a problem of its row, not an error: monitoring wants every row.
func Check(o Options) (*Info, error) {
	inv := o.Inventory
	if inv == nil {
		inv = pki.Kubeadm()
	}
	var node *pki.Node // names and files do not depend on the node
	if o.Cluster != nil {
		n, err := o.Cluster.Node()
		if err != nil {
			return nil, err
		}
		node = &n
	}
	ext := o.EtcdExternal
	if node != nil && node.ExternalEtcd {
		ext = &o.Cluster.EtcdExternal
	}
	drift := "no SAN check (no configuration)"
	if node != nil {
		drift = "SANs compared with " + cmp.Or(o.ConfigFile, "the configuration")
	}
	debuglog.Debugf(debuglog.Decisions, "checking the certificates in %s and the kubeconfig files in %s; %s; --warn-within %v", o.CertDir, o.KubeconfigDir, drift, o.WarnWithin)
	c := &checker{o: o, cas: map[string]*caState{}}
	c.readRotation(inv)
	info := &Info{Kind: Kind, APIVersion: APIVersion, CheckedAt: CheckedAt(o.Now), WarnWithinSeconds: int64(o.WarnWithin / time.Second)}
	for _, t := range renewal.Targets(inv, ext != nil) {
		var want *pki.Profile
		if e, _ := inv.Find(t.Name); node != nil && e.SANs != pki.NoSANs {
			p := node.Profile(e)
			want = &p
		}
		info.Certificates = append(info.Certificates, c.leaf(t, want))
	}
	info.Certificates = append(info.Certificates, c.kubelet())
	if ext != nil && ext.CertFile != "" {
		leaf, ca := c.externalEtcd(*ext)
		info.Certificates = append(info.Certificates, leaf)
		if ca != nil {
			info.CertificateAuthorities = append(info.CertificateAuthorities, *ca)
		}
	}
	// kubeadm's order: by name.
	byName := func(a, b Certificate) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(info.Certificates, byName)
	for _, e := range inv.Select(ext != nil, pki.KindCA) {
		row := c.ca(e.Name, e.BaseName).row
		c.checkSigningFlags(&row)
		info.CertificateAuthorities = append(info.CertificateAuthorities, row)
	}
	slices.SortFunc(info.CertificateAuthorities, byName)
	// Not a certificate, so no row; kubeadm lists none. Its key's mode is
	// a problem as a CA key's is (certs list reports it too).
	sa := Certificate{Name: pki.SAName, File: pki.Store{Dir: o.CertDir}.KeyPath(pki.SAName)}
	checkMode(&sa, sa.File)
	checkReplaceable(&sa, pki.Store{Dir: o.CertDir}.PublicKeyPath(pki.SAName))
	if len(sa.Problems) > 0 {
		info.KeyPairs = append(info.KeyPairs, KeyPair{Name: sa.Name, File: sa.File, Problems: sa.Problems})
	}
	info.Folders = checkFolders(o.CertDir, o.KubeconfigDir, c.kubeletFiles)
	owed, manifestDir, records, err := restartsOwed(o.CertDir, o.KubeconfigDir)
	if err != nil {
		return nil, err
	}
	info.RestartsOwed, info.restartHint = owed, restartHint(o.FolderFlags, manifestDir, records)
	return info, nil
}

// CheckedAt is the instant of a check at now as its report prints it: in
// UTC, at the next whole second, as the expiration dates are (jq's
// fromdateiso8601 refuses a fraction). A certificate's NotAfter is a whole
// second, so NotAfter - CheckedAt is still the residual time
// (ResidualTimeSeconds, the whole seconds from now).
func CheckedAt(now time.Time) time.Time {
	return now.Add(time.Second - time.Nanosecond).Truncate(time.Second).UTC()
}

// ExpiringSoon lists the certificates and CAs marked ExpiringSoon.
func (info *Info) ExpiringSoon() []Certificate {
	return slices.DeleteFunc(info.all(), func(c Certificate) bool { return !c.ExpiringSoon })
}

// NoneExists reports whether the file of every certificate and CA is
// missing: the folders checked are not the node's, and the report would
// read as all well to a monitoring job that ignores MISSING rows.
func (info *Info) NoneExists() bool {
	return !slices.ContainsFunc(info.all(), func(c Certificate) bool { return !c.Missing })
}

// Problems lists every problem, each prefixed with its certificate's (or
// key pair's) name.
func (info *Info) Problems() []string {
	var out []string
	for _, c := range info.all() {
		for _, p := range c.Problems {
			out = append(out, c.Name+": "+p.Message)
		}
	}
	for _, k := range info.KeyPairs {
		for _, p := range k.Problems {
			out = append(out, k.Name+": "+p.Message)
		}
	}
	for _, f := range info.Folders {
		for _, p := range f.Problems {
			out = append(out, f.Name+": "+p.Message)
		}
	}
	return out
}

// all is a copy of the certificates' rows, then the CAs'.
func (info *Info) all() []Certificate {
	return slices.Concat(info.Certificates, info.CertificateAuthorities)
}

type checker struct {
	o   Options
	cas map[string]*caState
	// rotating are the CA rotations in progress (`certctl ca rotate`), by
	// CA name: of the CA kube-controller-manager signs with and of the
	// kubeconfigs' CA.
	rotating map[string]rotation
	// kubeletFiles are the files kubelet.conf names (its client
	// certificate and key, after the TLS bootstrap), whose folders
	// checkFolders checks as the certificate folder's.
	kubeletFiles []string
}

type caState struct {
	row  Certificate
	cert *x509.Certificate // nil when missing or unreadable
	// others are the other certificates of the CA file (the old CA of a
	// rotation at reissue), which its clients trust too.
	others []*x509.Certificate
	// keyOnDisk is false for an external CA.
	keyOnDisk bool
}

// ca reads and checks a CA once.
func (c *checker) ca(name, base string) *caState {
	if s, ok := c.cas[name]; ok {
		return s
	}
	st := pki.Store{Dir: c.o.CertDir}
	s := &caState{row: Certificate{Name: name, File: st.CertPath(base), Problems: []Problem{}}}
	c.cas[name] = s
	reading(s.row.File)
	ca, err := pki.LoadCA(s.row.File, "", time.Time{})
	switch pki.FaultOf(err) {
	case pki.CACertMissing:
		s.row.setMissing()
	case pki.CACertUnreadable:
		if pki.SaysWhatToDo(err) {
			s.row.add(Unreadable, "%v", errors.Unwrap(err)) // names the file, what it is and what to do
			break
		}
		s.row.add(Unreadable, "read %s: %v: run certctl as root, or fix the permissions", s.row.File, errors.Unwrap(err))
	case pki.CACertUnparsable:
		if pki.SaysWhatToDo(err) {
			s.row.add(Unreadable, "%v", err) // names the file, what it holds and how to convert it
			break
		}
		s.row.add(Unreadable, "parse certificate %s: %v: restore it from a backup", s.row.File, errors.Unwrap(err))
	case pki.CANotCA:
		s.row.add(NotACA, "%v; restore the CA from a backup", err)
	}
	if ca == nil {
		return s
	}
	s.cert, s.others = ca.Cert, ca.Bundle[1:]
	c.setCert(&s.row, ca.Cert)
	checkReplaceable(&s.row, s.row.File)
	s.keyOnDisk = c.checkKey(&s.row, ca.Cert, st.KeyPath(base), false, "")
	s.row.ExternallyManaged = !s.keyOnDisk
	return s
}

// holds reports whether a client that trusts cert verifies what the CA
// file's CAs sign: cert is one of them, the same CA re-issued (subject and
// key), or the issuer of one (the root of an intermediate ca.crt).
func (s *caState) holds(cert *x509.Certificate) bool {
	return slices.ContainsFunc(append([]*x509.Certificate{s.cert}, s.others...), func(ca *x509.Certificate) bool {
		return bytes.Equal(ca.RawSubject, cert.RawSubject) && bytes.Equal(ca.RawSubjectPublicKeyInfo, cert.RawSubjectPublicKeyInfo) ||
			ca.CheckSignatureFrom(cert) == nil
	})
}

// checkKubeconfigCA reports the kubeconfig path whose
// certificate-authority-data holds none of its CA file's certificates, when
// its client certificate is signed by that CA (one from another cluster is
// not-signed-by-ca already); fix says what to do.
func (c *checker) checkKubeconfigCA(row *Certificate, cfg *clientcmdapi.Config, ca *caState, path, fix string) {
	cas, err := kubeconfig.CACerts(cfg)
	if err != nil || ca.cert == nil || slices.ContainsFunc(cas, ca.holds) || slices.ContainsFunc(row.Problems, func(p Problem) bool { return p.Type == NotSignedByCA }) {
		return
	}
	row.add(CADataMismatch, "kubeconfig %s: its certificate-authority-data is not the CA %s, so its client rejects the API server's certificate: %s", path, ca.row.File, fix)
}

// configFlag is " --config FILE" for a renew this check prints, when the
// check read --config, whose certificatesDir FolderFlags lacks; "" without.
func (c *checker) configFlag() string {
	if c.o.ConfigFile == "" {
		return ""
	}
	return " --config " + output.ShellQuote(c.o.ConfigFile)
}

// initKubeconfig is the init-phase command that makes the kubeconfig file
// again, with the folders and --config of this check.
func (c *checker) initKubeconfig(file string) string {
	return fmt.Sprintf("`certctl init-phase kubeconfig %s%s%s`", strings.TrimSuffix(filepath.Base(file), ".conf"), c.configFlag(), c.o.FolderFlags)
}

// initCerts is the init-phase command that makes the certificate name
// again, with the folders and --config of this check.
func (c *checker) initCerts(name string) string {
	return fmt.Sprintf("`certctl init-phase certs %s%s%s`", name, c.configFlag(), c.o.FolderFlags)
}

// leaf checks one certificate file pair or kubeconfig.
func (c *checker) leaf(t renewal.Target, want *pki.Profile) Certificate {
	st := pki.Store{Dir: c.o.CertDir}
	row := Certificate{Name: t.Name, CAName: t.CAName, Problems: []Problem{}}
	ca := c.ca(t.CAName, t.CABaseName)
	row.ExternallyManaged = ca.cert != nil && !ca.keyOnDisk
	var cert *x509.Certificate
	var inter []*x509.Certificate
	var kc *clientcmdapi.Config
	if t.Kubeconfig {
		row.File = filepath.Join(c.o.KubeconfigDir, t.BaseName)
		cfg, ok := c.loadKubeconfig(&row)
		if !ok {
			return row
		}
		chain, key, err := kubeconfig.ClientChain(cfg)
		if err != nil {
			fix := kubeconfig.SwitchBack(row.File, cfg)
			if fix == "" {
				fix = "remove it and run " + c.initKubeconfig(row.File)
			}
			row.add(Unreadable, "kubeconfig %s: %v: %s", row.File, err, fix)
			return row
		}
		if chain[0].IsCA {
			c.notALeaf(&row, t.Name, chain, c.initKubeconfig(row.File))
			return row
		}
		c.setCert(&row, chain[0])
		if pki.KeyMatches(chain[0], key) != nil {
			row.add(KeyMismatch, "kubeconfig %s: the embedded client key does not match the embedded certificate: restore it from a backup, or remove it and run %s", row.File, c.initKubeconfig(row.File))
		}
		cert, inter, kc = chain[0], chain[1:], cfg
	} else {
		row.File = st.CertPath(t.BaseName)
		certs, ok := c.readCert(&row)
		if !ok {
			return row
		}
		cert, inter = certs[0], certs[1:]
		if cert.IsCA {
			c.notALeaf(&row, t.Name, certs, c.initCerts(t.Name))
			return row
		}
		c.checkKey(&row, cert, st.KeyPath(t.BaseName), true, c.initCerts(t.Name))
	}
	c.checkChain(&row, cert, inter, ca)
	if i := slices.IndexFunc(row.Problems, func(p Problem) bool { return p.Type == NotSignedByCA }); kc != nil && i >= 0 {
		// A context of another cluster made current: switch back rather
		// than restore the file, which would lose the user's contexts.
		if fix := kubeconfig.SwitchBackSigned(row.File, kc, func(chain []*x509.Certificate) bool {
			return slices.ContainsFunc(append([]*x509.Certificate{ca.cert}, ca.others...), func(ca *x509.Certificate) bool { return pki.IssuedBy(chain[0], chain[1:], ca, c.o.Now) == nil })
		}); fix != "" {
			row.Problems[i].Message = fmt.Sprintf("kubeconfig %s: the client certificate of its current context %q is not signed by the CA %s: its client is another cluster's; %s", row.File, kc.CurrentContext, ca.row.File, fix)
		}
	}
	if kc != nil {
		c.checkKubeconfigCA(&row, kc, ca, row.File, fmt.Sprintf("run `certctl renew %s%s%s` (it writes the CA into it), or restore it from a backup", t.Name, c.configFlag(), c.o.FolderFlags))
		c.checkRotationCAData(&row, kc, t)
	}
	if want != nil {
		if d := drift(cert, want.DNSNames, want.IPs); d != "" {
			drop := ""
			if strings.Contains(d, "not configured") {
				drop = " --drop-sans"
			}
			// Without --config the settings are the kubeadm-config
			// ConfigMap's, which renew reads too without it.
			cfg := cmp.Or(c.o.ConfigFile, "the kubeadm-config ConfigMap")
			row.add(SANDrift, "%s: its SANs differ from what %s asks for (%s): renewal keeps a certificate's SANs; to apply the configuration, run `certctl renew %s --update-sans%s%s%s`", row.File, cfg, d, t.Name, drop, c.configFlag(), c.o.FolderFlags)
		}
	}
	return row
}

// readCert reads row.File's certificates and sets the expiry from the
// first. A missing file sets Missing; an unreadable one adds a problem.
// notALeaf reports the file of row, whose first certificate is a CA's
// where the leaf name belongs: the component presents that certificate,
// which its peers reject (CA:TRUE, no client or server auth), whatever
// its key. It verifies against itself, so the chain and key checks would
// call it healthy, or its key a mismatch when the leaf comes after it.
// renew and init-phase refuse it. The row shows the leaf when the file
// holds one after the CA.
func (c *checker) notALeaf(row *Certificate, name string, certs []*x509.Certificate, remake string) {
	if i, err := pki.LeafAfterCA(row.File, name, certs); err != nil {
		c.setCert(row, certs[i])
		row.add(NotALeaf, "%v", err)
		return
	}
	row.add(NotALeaf, "%s holds the CA certificate %q (CA:TRUE), not the %s certificate: its component presents it and its peers reject it; put the right certificate and key back from a backup, or move them aside and run %s", row.File, certs[0].Subject.CommonName, name, remake)
}

func (c *checker) readCert(row *Certificate) ([]*x509.Certificate, bool) {
	reading(row.File)
	data, err := pki.ReadFile(row.File)
	if errors.Is(err, fs.ErrNotExist) {
		row.setMissing()
		return nil, false
	}
	if errors.Is(err, pki.ErrNotRegular) {
		row.add(Unreadable, "%v", err) // names the file, what it is and what to do
		return nil, false
	}
	if err != nil {
		row.add(Unreadable, "read %s: %v: run certctl as root, or fix the permissions", row.File, errors.Unwrap(err))
		return nil, false
	}
	certs, err := pki.ParseCerts(data)
	if err != nil {
		row.add(Unreadable, "parse certificate %s: %v: restore it from a backup", row.File, err)
		return nil, false
	}
	c.setCert(row, certs[0])
	checkReplaceable(row, row.File)
	return certs, true
}

func (c *checker) loadKubeconfig(row *Certificate) (*clientcmdapi.Config, bool) {
	if _, err := os.Lstat(row.File); errors.Is(err, fs.ErrNotExist) {
		row.setMissing()
		return nil, false
	}
	reading(row.File)
	cfg, err := kubeconfig.Load(row.File)
	if errors.Is(err, fs.ErrPermission) {
		row.add(Unreadable, "%v: run certctl as root, or fix the permissions", err)
		return nil, false
	}
	if errors.Is(err, pki.ErrNotRegular) {
		row.add(Unreadable, "%v", err) // names the file, what it is and what to do
		return nil, false
	}
	if err != nil {
		row.add(Unreadable, "%v: restore it from a backup, or remove it and run %s", err, c.initKubeconfig(row.File))
		return nil, false
	}
	if embedsSecret(cfg) {
		checkMode(row, row.File)
	} else if fi, err := os.Stat(row.File); err == nil {
		// kubelet.conf after the TLS bootstrap names its key file, which
		// is checked itself; whoever owns or may write it may still point
		// it at another API server, CA or key.
		checkWritable(row, row.File, fi)
		checkOwner(row, row.File, fi)
	}
	return cfg, true
}

// checkKey reads keyPath and checks that it is cert's key. It reports
// whether the key file exists. A missing key is a problem only when
// required (a leaf; a CA without its key is an external CA). remake, when
// not "", is the command that makes the pair again once it is removed
// (a leaf of kubeadm's: init-phase certs NAME), advised beside a backup as
// renew advises it (renewal's pairSlot).
func (c *checker) checkKey(row *Certificate, cert *x509.Certificate, keyPath string, required bool, remake string) bool {
	or := func(what string) string {
		if remake == "" {
			return ""
		}
		return ", or remove " + what + " and run " + remake
	}
	reading(keyPath)
	data, err := pki.ReadFile(keyPath)
	if dest, ok := pki.DanglingLink(keyPath); ok && errors.Is(err, fs.ErrNotExist) {
		// A volume not mounted, not an external CA: renew refuses it.
		row.add(KeyMissing, "%s is a symbolic link to %s, which does not exist: mount the volume that holds it, or correct the link", keyPath, dest)
		return false
	}
	if errors.Is(err, fs.ErrNotExist) {
		if required {
			row.add(KeyMissing, "%s exists but its key %s does not: restore the key from a backup%s", row.File, keyPath, or("the certificate"))
		}
		return false
	}
	if errors.Is(err, pki.ErrNotRegular) {
		row.add(Unreadable, "%v", err) // names the file, what it is and what to do
		return true
	}
	if err != nil {
		row.add(Unreadable, "read %s: %v: run certctl as root, or fix the permissions", keyPath, err)
		return true
	}
	checkMode(row, keyPath)
	key, err := pki.ParsePrivateKey(data)
	if errors.Is(err, pki.ErrEncryptedKey) {
		row.add(Unreadable, "%s", pki.EncryptedKeyMessage(keyPath))
		return true
	}
	if err != nil {
		row.add(Unreadable, "parse private key %s: %v: restore it from a backup%s", keyPath, err, or("it and its certificate"))
		return true
	}
	if pki.KeyMatches(cert, key) != nil {
		row.add(KeyMismatch, "%s does not match the certificate %s: restore the matching pair from a backup%s", keyPath, row.File, or("both"))
	}
	return true
}

func (c *checker) checkChain(row *Certificate, cert *x509.Certificate, inter []*x509.Certificate, ca *caState) {
	switch {
	case ca.cert == nil && ca.row.Missing:
		row.add(CAMissing, "cannot check that %s is signed by its CA: %s is missing; restore it from a backup", row.File, ca.row.File)
		return
	case ca.cert == nil:
		row.add(CAMissing, "cannot check that %s is signed by its CA: %s cannot be read; fix it first (the problem of %s)", row.File, ca.row.File, ca.row.Name)
		return
	}
	// An expired CA is its own row's expiry, not its certificates'
	// problem. Verified at now, the chain failed and read as a re-issued CA.
	err := pki.IssuedBy(cert, inter, ca.cert, c.o.Now)
	for _, other := range ca.others {
		if err != nil && pki.IssuedBy(cert, inter, other, c.o.Now) == nil {
			err = nil // trusted all the same: renew re-signs it with the first
		}
	}
	var reissued *pki.ReissuedCAError
	var refused *pki.RefusedCertError
	switch {
	case errors.As(err, &reissued):
		row.add(NotSignedByCA, "%s: %v; %s", row.File, strings.TrimPrefix(err.Error(), "pki: "), reissued.Fix(ca.row.File))
	case errors.As(err, &refused) && refused.Renewable:
		row.add(NotSignedByCA, "%s: %v: renew it (`certctl renew %s%s%s`), which signs it anew", row.File, strings.TrimPrefix(err.Error(), "pki: "), row.Name, c.configFlag(), c.o.FolderFlags)
	case errors.As(err, &refused):
		row.add(NotSignedByCA, "%s: %v: have it issued for names the CA %s permits, or by a CA without name constraints", row.File, strings.TrimPrefix(err.Error(), "pki: "), ca.row.File)
	case err != nil:
		row.add(NotSignedByCA, "%s is not signed by the CA %s: clients that trust that CA reject it; restore the right certificate or CA from a backup", row.File, ca.row.File)
	}
}

// setCert sets the row's expiry from cert and reports a certificate not
// valid yet (a clock ahead where it was made, or behind here) and a key
// weaker than the issuance policy allows (issue 13, defect 4).
func (c *checker) setCert(row *Certificate, cert *x509.Certificate) {
	exp := cert.NotAfter.UTC()
	row.ExpirationDate, row.cert = &exp, cert
	row.ResidualTimeSeconds = int64(exp.Sub(c.o.Now) / time.Second)
	row.ExpiringSoon = exp.Sub(c.o.Now) < c.o.WarnWithin || !exp.After(c.o.Now)
	if from := cert.NotBefore.UTC(); c.o.Now.Before(from) {
		row.add(NotYetValid, "%s is valid only from %s, %v after this host's clock: every client rejects it until then; check this host's clock (timedatectl): if it is right, the certificate was made on a host whose clock is ahead: fix that clock and make it again", row.File, from.Format(time.RFC3339), from.Sub(c.o.Now).Round(time.Second))
	}
	if err := policy.Key("the key of "+row.File, cert.PublicKey, false); err != nil {
		todo := fmt.Sprintf("renew %s with a new key (certctl renew %s, without --reuse-key)", row.Name, row.Name)
		if row.CAName == "" {
			todo = "replace the CA with one of a supported key, then every certificate it signed"
		}
		row.add(WeakKey, "%v; %s", err, todo)
	}
}

// checkMode reports a file holding a private key that group or others may
// read or write: kubeadm and certctl write them 0600; and one that another
// user than root and its folder's owner owns (checkOwner).
func checkMode(row *Certificate, path string) {
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	if fi.Mode().Perm()&0o077 != 0 {
		row.add(KeyPermissions, "%s holds a private key but is mode %04o: make it readable by its owner only: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	checkOwner(row, path, fi)
}

// reading says, at -v 4, which file is read next.
func reading(path string) {
	debuglog.Debugf(debuglog.Files, "reading %s", path)
}

// setMissing marks a row whose file does not exist; like kubeadm, such a
// row is not externally managed: there is nothing to manage.
func (row *Certificate) setMissing() {
	row.Missing, row.ExternallyManaged = true, false
}

func (row *Certificate) add(t ProblemType, format string, args ...any) {
	row.Problems = append(row.Problems, Problem{Type: t, Message: fmt.Sprintf(format, args...)})
}

// drift describes how cert's SANs differ from the wanted ones: the ones it
// lacks and the ones it has beyond them; "" when they are the same set.
func drift(cert *x509.Certificate, dns []string, ips []net.IP) string {
	set := func(dns []string, ips []net.IP) sets.Set[string] {
		s := sets.New[string]()
		for _, d := range dns {
			s.Insert(strings.ToLower(d))
		}
		for _, ip := range ips {
			s.Insert(ip.String()) // String normalises IPv4-in-IPv6
		}
		return s
	}
	want, have := set(dns, ips), set(cert.DNSNames, cert.IPAddresses)
	var parts []string
	if m := sets.List(want.Difference(have)); len(m) > 0 {
		parts = append(parts, "missing "+strings.Join(m, ", "))
	}
	if e := sets.List(have.Difference(want)); len(e) > 0 {
		parts = append(parts, "not configured "+strings.Join(e, ", "))
	}
	return strings.Join(parts, "; ")
}

// restartsOwed reads the restarts that renewals of certDir still owe,
// beside each of its names (node.LoadOwed), the manifest folder they
// are owed in, and the record files that list them (Pending.Records).
func restartsOwed(certDir, kubeconfigDir string) (owed []RestartOwed, manifestDir string, records []string, err error) {
	p, err := node.LoadOwed(certDir, []string{kubeconfigDir})
	switch {
	case errors.Is(err, fs.ErrPermission):
		return nil, "", nil, fmt.Errorf("%w: run certctl as root", err)
	case err != nil: // a parse error or a FIFO says what to do
		return nil, "", nil, fmt.Errorf("%w (docs/cron.md)", err)
	}
	owed = []RestartOwed{}
	for _, c := range p.Components {
		// since to the second, as every time of the report (CheckedAt)
		owed = append(owed, RestartOwed{Component: c.Component, Since: c.Since.UTC().Truncate(time.Second), Files: c.Files, Reason: c.Reason})
		if manifestDir == "" && c.Manifest != "" {
			manifestDir = filepath.Dir(c.Manifest)
		}
	}
	return owed, manifestDir, p.Records(), nil
}
