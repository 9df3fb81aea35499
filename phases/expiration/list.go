package expiration

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
	"github.com/certctl/certctl/pki/policy"
)

// CertificateList is the versioned schema of `certctl certs list -o
// json|yaml` (output.certctl.io/v1, compatible as Info is: fields are only
// added).
type CertificateList struct {
	Kind       string      `json:"kind"` // ListKind
	APIVersion string      `json:"apiVersion"`
	Items      []ListEntry `json:"items"`
	// Folders are the folders of the files listed that group or others
	// may write (folder-permissions), as in check-expiration's Info.Folders:
	// listed only with a problem, and in no table.
	Folders []Folder `json:"folders,omitempty"`
}

// ListKind is CertificateList's kind.
const ListKind = "CertificateList"

// ListEntry is one certificate, kubeconfig or key pair on disk.
type ListEntry struct {
	Name string `json:"name"` // kubeadm's: "apiserver", "admin.conf", "ca", "sa"
	File string `json:"file"`
	// Status is "ok", "missing" or "unreadable" (then Error says why).
	Status  string     `json:"status"`
	Error   string     `json:"error,omitempty"`
	Subject string     `json:"subject,omitempty"` // "CN=...,O=..."
	SANs    []string   `json:"sans,omitempty"`
	Key     string     `json:"key,omitempty"` // "RSA-2048", "ECDSA-P256"
	Expires *time.Time `json:"expirationDate,omitempty"`
	// CAName is the CA that must have signed it; "(self-signed)" for a CA,
	// empty for the sa key pair.
	CAName   string    `json:"caName,omitempty"`
	Problems []Problem `json:"problems"`
}

// List is `certctl certs list`: the certificates and kubeconfig files of
// the kubeadm inventory, with ext (etcd.external of --config; nil for
// none) the external etcd's client certificate and CA instead of the
// local etcd's certificates, and the service-account key pair, read
// consistently
// (node.Read: without the lock, after finishing an interrupted
// transaction, so that the list shows what is really in force), printed in
// format f (a table whose columns fit 100 columns; -o wide adds the files,
// subjects and SANs).
func List(ctx context.Context, certDir, kubeconfigDir string, ext *config.ExternalEtcd, now time.Time, f output.Format, out, errOut io.Writer) error {
	// Names and files depend on the settings only through etcd.external.
	inv, n := pki.Kubeadm(), pki.Node{ExternalEtcd: ext != nil}
	var list *CertificateList
	err := node.Read(ctx, errOut, certDir, []string{kubeconfigDir}, func() (err error) {
		list, err = listInventory(certDir, kubeconfigDir, inv.Certificates(n), inv.Kubeconfigs(n), ext, now)
		return err
	})
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(list.Items, func(e ListEntry) bool { return e.Status != "missing" }) {
		return noneExists("list", len(list.Items), certDir, kubeconfigDir)
	}
	if err := config.MissingFolder(certDir, kubeconfigDir); err != nil {
		return err
	}
	return f.Print(out, list, func(w io.Writer, wide bool) error { return writeList(w, list, now, wide) })
}

// listInventory reads the inventory with the problems check-expiration
// finds (Check: the chain to the expected CA, the key, a CA that cannot
// sign).
func listInventory(certDir, kubeconfigDir string, certs []pki.Profile, kcs []pki.KubeconfigProfile, ext *config.ExternalEtcd, now time.Time) (*CertificateList, error) {
	info, err := Check(Options{CertDir: certDir, KubeconfigDir: kubeconfigDir, EtcdExternal: ext, Now: now, FolderFlags: config.FolderFlags(certDir, kubeconfigDir)})
	if err != nil {
		return nil, err
	}
	rows := map[string]Certificate{}
	for _, c := range info.all() {
		rows[c.Name] = c
	}
	list := &CertificateList{Kind: ListKind, APIVersion: APIVersion, Folders: info.Folders}
	s := pki.Store{Dir: certDir}
	add := func(name, file string, cert *x509.Certificate, err error, ca string) {
		e := ListEntry{Name: name, File: file, Status: "ok", CAName: ca, Problems: rows[name].Problems}
		if e.Problems == nil {
			e.Problems = []Problem{}
		}
		switch {
		case err != nil:
			e.Status = "missing"
			if ok, _ := pki.Exists(file); ok {
				e.Status, e.Error = "unreadable", err.Error()
			}
		default:
			notAfter := cert.NotAfter.UTC()
			e.Subject, e.SANs, e.Key, e.Expires = Subject(cert), sanList(cert), pki.DescribeKey(cert.PublicKey), &notAfter
		}
		list.Items = append(list.Items, e)
	}
	for _, p := range certs {
		cert, _, err := s.ReadCert(p.BaseName)
		ca := p.CAName
		if p.IsCA {
			ca = "(self-signed)"
		}
		add(p.Name, s.CertPath(p.BaseName), cert, err, ca)
	}
	if ext != nil && ext.CertFile != "" { // the rows Check gives them
		if ext.CAFile != "" {
			cert, _, err := pki.ReadCertFile(ext.CAFile)
			add(ExternalEtcdCA, ext.CAFile, cert, err, "(external)")
		}
		cert, _, err := pki.ReadCertFile(ext.CertFile)
		add(ExternalEtcdClient, ext.CertFile, cert, err, ExternalEtcdCA)
	}
	for _, p := range kcs {
		path := filepath.Join(kubeconfigDir, p.BaseName)
		// kubelet.conf names the kubelet's rotated file after TLS bootstrap:
		// Check read it.
		if r := rows[p.BaseName]; p.BaseName == pki.KubeletKubeconfig && r.cert != nil {
			add(p.BaseName, r.File, r.cert, nil, p.CAName)
			continue
		} else if p.BaseName == pki.KubeletKubeconfig && r.File != path && len(r.Problems) > 0 {
			// The file it points to cannot be read: the row says so,
			// not that kubelet.conf embeds no certificate.
			add(p.BaseName, r.File, nil, errors.New(r.Problems[0].Message), p.CAName)
			e := &list.Items[len(list.Items)-1]
			e.Status, e.Error = "unreadable", r.Problems[0].Message
			continue
		}
		var cert *x509.Certificate
		cfg, err := kubeconfig.Load(path)
		if err == nil {
			cert, _, err = kubeconfig.ClientCert(cfg)
		}
		add(p.BaseName, path, cert, err, p.CAName)
	}
	list.Items = append(list.Items, serviceAccountEntry(s))
	return list, nil
}

// writeList prints list as a table: NAME, KEY, EXPIRES, CA and PROBLEMS (the
// problem types), which fit 100 columns; wide adds FILE, SUBJECT and SANS.
// Below the table, one line per problem with what to do.
func writeList(out io.Writer, list *CertificateList, now time.Time, wide bool) error {
	w := output.NewTable(out, wide)
	if wide {
		fmt.Fprintln(w, "NAME\tFILE\tSUBJECT\tSANS\tKEY\tEXPIRES\tCA\tPROBLEMS")
	} else {
		fmt.Fprintln(w, "NAME\tKEY\tEXPIRES\tCA\tPROBLEMS")
	}
	var listed []string
	for _, e := range list.Items {
		ps := ProblemTypes(e.Problems)
		for _, p := range e.Problems {
			listed = append(listed, e.Name+": "+p.Message)
		}
		subject, sans, key, expires, ca := e.Subject, strings.Join(e.SANs, ","), e.Key, "never", e.CAName
		switch {
		case e.Status == "missing":
			subject, key, expires, ca = "MISSING", "MISSING", "", ""
		case e.Status == "unreadable":
			subject, key, expires, ca = "UNREADABLE: "+e.Error, "UNREADABLE", "", ""
		default:
			sans, ca = cmp.Or(sans, "-"), cmp.Or(ca, "-")
			if e.Expires != nil {
				day := e.Expires.UTC().Format("2006-01-02")
				expires = day + " (EXPIRED)"
				if left := e.Expires.Sub(now); left > 0 {
					expires = fmt.Sprintf("%s (%dd)", day, int(left.Hours()/24))
				}
			}
		}
		if wide {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.File, subject, sans, key, expires, ca, ps)
		} else {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.Name, key, expires, ca, ps)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, f := range list.Folders {
		for _, p := range f.Problems {
			listed = append(listed, f.Name+": "+p.Message)
		}
	}
	WriteList(out, "PROBLEMS", listed)
	return nil
}

// serviceAccountEntry is the sa key pair: no subject, SANs, expiry or CA
// (it is not a certificate), the key's algorithm, and a problem when sa.key
// or sa.pub is missing, unreadable, or they do not match (tokens signed
// with the key would then be rejected).
func serviceAccountEntry(s pki.Store) ListEntry {
	keyPath, pubPath := s.KeyPath(pki.SAName), s.PublicKeyPath(pki.SAName)
	e := ListEntry{Name: pki.SAName, File: keyPath, Status: "ok", Subject: "(service account key pair)", Problems: []Problem{}}
	keyOK, _ := pki.Exists(keyPath)
	pubOK, _ := pki.Exists(pubPath)
	if !keyOK && !pubOK {
		e.Status, e.Subject = "missing", ""
		return e
	}
	add := func(t ProblemType, format string, args ...any) {
		e.Problems = append(e.Problems, Problem{Type: t, Message: fmt.Sprintf(format, args...)})
	}
	e.Key = "-"
	key, keyErr := s.ReadKey(pki.SAName)
	pub, pubErr := s.ReadPublicKey(pki.SAName)
	switch {
	case !keyOK:
		add(KeyMissing, "%s exists but its private key %s does not: restore the key from a backup (tokens already issued depend on it)", pubPath, keyPath)
	case errors.Is(keyErr, fs.ErrPermission): // the user, not the key, is wrong
		add(Unreadable, "%v: run certctl as root, or fix the permissions", keyErr)
	case errors.Is(keyErr, pki.ErrEncryptedKey):
		add(Unreadable, "%s", pki.EncryptedKeyMessage(keyPath))
	case keyErr != nil:
		add(Unreadable, "%v: restore it from a backup", keyErr)
	default:
		e.Key = pki.DescribeKey(key.Public())
		if err := policy.Key(keyPath, key.Public(), false); err != nil {
			add(WeakKey, "%v; rotate the service-account key pair: certctl ca rotate sa (docs/ca-rotation.md)", err)
		}
	}
	if keyOK { // as checkMode: the key signs every service-account token
		row := Certificate{}
		checkMode(&row, keyPath)
		e.Problems = append(e.Problems, row.Problems...)
	}
	if pubOK { // as Check: whoever replaces it has tokens of another key accepted
		row := Certificate{}
		checkReplaceable(&row, pubPath)
		e.Problems = append(e.Problems, row.Problems...)
	}
	switch {
	case !pubOK:
		add(KeyMissing, "%s exists but its public key %s does not: run `certctl init-phase certs %s%s` to write it from the key", keyPath, pubPath, pki.SAName, config.FolderFlags(s.Dir, ""))
	case errors.Is(pubErr, fs.ErrPermission):
		add(Unreadable, "%v: run certctl as root, or fix the permissions", pubErr)
	case pubErr != nil:
		add(Unreadable, "%v: remove it and run `certctl init-phase certs %s%s` to write it from the key", pubErr, pki.SAName, config.FolderFlags(s.Dir, ""))
	case keyErr == nil && keyOK && !pki.SamePublicKey(pub, key.Public()):
		add(KeyMismatch, "%s does not match %s: restore the matching pair from a backup (tokens are checked with the public key)", pubPath, keyPath)
	}
	return e
}

// Subject is a certificate's subject as the tables print it: CN and O.
func Subject(c *x509.Certificate) string {
	s := "CN=" + c.Subject.CommonName
	for _, o := range c.Subject.Organization {
		s += ",O=" + o
	}
	return s
}

// SANs are a certificate's DNS names and IP addresses, "-" when none.
func SANs(c *x509.Certificate) string {
	if all := sanList(c); len(all) > 0 {
		return strings.Join(all, ",")
	}
	return "-"
}

func sanList(c *x509.Certificate) []string {
	all := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		all = append(all, ip.String())
	}
	return all
}
