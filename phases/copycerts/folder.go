package copycerts

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
	"github.com/certctl/certctl/pki/policy"
)

// looseKey reports whether e is a private key whose file group or others
// may read or write (check-expiration's key-permissions), and its mode.
func looseKey(e entry) (bool, fs.FileMode) {
	if e.kind != kindKey {
		return false, 0
	}
	fi, err := os.Stat(e.path)
	if err != nil {
		return false, 0
	}
	return fi.Mode().Perm()&0o077 != 0, fi.Mode().Perm()
}

// foreignLeaves lists the leaf certificates of kubeadm's inventory already
// in certDir that no CA of files (the decrypted Secret) signed: another
// cluster's, left in the folder; remove lists them with their keys. Written beside the cluster's CAs, they
// would be served and refused by every client (`init-phase certs` keeps a
// certificate that is there). A CA the Secret does not carry (an external
// etcd's) is not judged.
func foreignLeaves(certDir string, externalEtcd bool, files map[string][]byte, now time.Time) (foreign, remove []string, err error) {
	inv := pki.Kubeadm()
	s := pki.Store{Dir: certDir}
	for _, e := range inv.Select(externalEtcd, pki.KindLeaf) {
		cas, ok := secretCAs(inv, e, files)
		if !ok {
			continue // not in the Secret: not this download's to judge
		}
		path := s.CertPath(e.BaseName)
		data, err := pki.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", path, err)
		}
		certs, err := pki.ParseCerts(data)
		if err != nil || !signedByAny(certs[0], certs[1:], cas, now) {
			foreign, remove = append(foreign, path), append(remove, path)
			if _, err := os.Lstat(s.KeyPath(e.BaseName)); err == nil {
				remove = append(remove, s.KeyPath(e.BaseName))
			}
		}
	}
	return foreign, remove, nil
}

// secretCAs are the certificates of e's CA in files (the decrypted
// Secret); false when the Secret does not carry that CA (an external
// etcd's) or it does not parse (check refused it already).
func secretCAs(inv pki.Inventory, e pki.Entry, files map[string][]byte) ([]*x509.Certificate, bool) {
	ca, ok := inv.Find(e.CAName)
	if !ok {
		return nil, false
	}
	cas, err := pki.ParseCerts(files[secretName(ca.BaseName)+".crt"])
	return cas, err == nil
}

// foreignConf is a kubeconfig file of another cluster on the node: its
// path, and why, when it cannot even be read (else its CA is another's).
type foreignConf struct {
	path string
	err  error
}

// foreignKubeconfigs lists kubeadm's kubeconfig files already in
// kubeconfigDir whose embedded CA (certificate-authority-data of the
// current context's cluster) holds none of the certificates of its CA in
// files (the decrypted Secret): another cluster's, left on the node. A
// file that does not load is listed too, with why; one that names a CA
// file instead of embedding it, or whose CA the Secret does not carry, is
// not judged.
func foreignKubeconfigs(kubeconfigDir string, files map[string][]byte) []foreignConf {
	if kubeconfigDir == "" {
		return nil
	}
	inv := pki.Kubeadm()
	var foreign []foreignConf
	for _, e := range inv.Select(false, pki.KindKubeconfig) {
		cas, ok := secretCAs(inv, e, files)
		if !ok {
			continue // not in the Secret: not this download's to judge
		}
		path := filepath.Join(kubeconfigDir, e.BaseName)
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		cfg, err := kubeconfig.Load(path)
		if err != nil {
			foreign = append(foreign, foreignConf{path, err})
			continue
		}
		_, cluster, _, _, err := kubeconfig.Current(cfg)
		if err != nil {
			foreign = append(foreign, foreignConf{path, fmt.Errorf("kubeconfig %s: %w", path, err)})
			continue
		}
		if len(cluster.CertificateAuthorityData) == 0 {
			continue // a CA file: the certificate folder's, judged there
		}
		certs, err := pki.ParseCerts(cluster.CertificateAuthorityData)
		if err != nil || !slices.ContainsFunc(certs, func(c *x509.Certificate) bool {
			return slices.ContainsFunc(cas, c.Equal)
		}) {
			foreign = append(foreign, foreignConf{path: path})
		}
	}
	return foreign
}

// signedByAny reports whether one of cas (a bundle: two CAs during a
// rotation) issued cert.
func signedByAny(cert *x509.Certificate, inter, cas []*x509.Certificate, now time.Time) bool {
	for _, ca := range cas {
		if pki.IssuedBy(cert, inter, ca, now) == nil {
			return true
		}
	}
	return false
}

// warnCAs says on w, one line each, which CA of files has expired or has a
// key weaker than certctl's policy allows, and whether the
// service-account key pair is weaker. It does not refuse: copying the
// CAs is also how a broken cluster is recovered. name says where an entry
// is read from or written to.
func warnCAs(w io.Writer, es []entry, files map[string][]byte, name func(entry) string, now time.Time) {
	if w == nil {
		return
	}
	for _, e := range es {
		if e.kind == kindPublic && len(files[e.key]) > 0 {
			// The service-account key pair: kube-apiserver signs every
			// token with it. Not a CA, but as sensitive.
			if pub, err := pki.ParsePublicKey(files[e.key]); err == nil {
				if err := policy.Key("the key of "+name(e), pub, false); err != nil {
					fmt.Fprintf(w, "[warning] %v; it is copied all the same, so that a broken cluster can be recovered: make a new pair with certctl ca rotate %s (docs/ca-rotation.md)\n", err, e.name)
				}
			}
			continue
		}
		if e.kind != kindCA || len(files[e.key]) == 0 {
			continue
		}
		certs, err := pki.ParseCerts(files[e.key])
		if err != nil {
			continue // check refused it already
		}
		fix := fmt.Sprintf("rotate it (certctl ca rotate %s, docs/ca-rotation.md)", e.name)
		if e.name == "" { // an external etcd's CA: not certctl's to rotate
			fix = "replace it where the external etcd's certificates are made"
		}
		if c := certs[0]; !now.Before(c.NotAfter) {
			fmt.Fprintf(w, "[warning] %s: the CA %q expired at %s: clients refuse every certificate it signed; it is copied all the same, so that a broken cluster can be recovered: %s\n",
				name(e), c.Subject.CommonName, c.NotAfter.UTC().Format(time.RFC3339), fix)
		}
		if err := policy.Key("the key of "+name(e), certs[0].PublicKey, false); err != nil {
			fmt.Fprintf(w, "[warning] %v; it is copied all the same, so that a broken cluster can be recovered: %s to a CA with such a key\n", err, fix)
		}
	}
}

// sameContent reports whether old, a file already in the folder, holds
// what data (the Secret's entry for e) holds, in another encoding: the
// same certificates (DER), the same private key, the same public key.
func sameContent(e entry, old, data []byte) bool {
	switch e.kind {
	case kindCA, kindCert:
		a, errA := pki.ParseCerts(old)
		b, errB := pki.ParseCerts(data)
		return errA == nil && errB == nil && slices.EqualFunc(a, b, func(x, y *x509.Certificate) bool { return x.Equal(y) })
	case kindKey:
		a, errA := pki.ParsePrivateKey(old)
		b, errB := pki.ParsePrivateKey(data)
		return errA == nil && errB == nil && pki.SamePublicKey(a.Public(), b.Public())
	case kindPublic:
		a, errA := pki.ParsePublicKey(old)
		b, errB := pki.ParsePublicKey(data)
		return errA == nil && errB == nil && pki.SamePublicKey(a, b)
	}
	return false
}

// noun names what e holds.
func (e entry) noun() string {
	switch e.kind {
	case kindKey:
		return "private key"
	case kindPublic:
		return "public key"
	}
	return "certificate"
}

// checkPlaces refuses, before anything is read from or written to them, a
// kubeconfig folder that is a file, a certificate folder that is a file, a
// file of es with a file on the way to it (pki/etcd a file), and an
// etcd.external file with a folder in its place.
func checkPlaces(certDir, kubeconfigDir string, es []entry) error {
	if fi, err := os.Stat(kubeconfigDir); kubeconfigDir != "" && err == nil && !fi.IsDir() {
		return fmt.Errorf("--kubeconfig-dir %s is a file, not a folder: pass the folder that holds the kubeconfig files (kubeadm's is /etc/kubernetes); nothing was changed", kubeconfigDir)
	}
	dir := absPath(certDir)
	if file, err := fileOnTheWay(dir); err != nil {
		return err
	} else if file != "" {
		return fmt.Errorf("--cert-dir %s: %s is a file, not a folder: pass the folder that holds the files (kubeadm's is /etc/kubernetes/pki); nothing was changed", certDir, file)
	}
	for _, e := range es {
		if e.path == "" {
			continue
		}
		field, external := externalFields[e.key]
		file, err := fileOnTheWay(filepath.Dir(absPath(e.path)))
		switch {
		case err != nil:
			return err
		case file != "" && external:
			return fmt.Errorf("etcd.external %s %s: %s is a file, not a folder: fix the path in the ClusterConfiguration (--config), or move %s away; nothing was changed", field, e.path, file, file)
		case file != "":
			return fmt.Errorf("%s: %s is a file, not a folder: it is no file of kubeadm's; move it away, then download again; nothing was changed", e.path, file)
		}
		if st, err := os.Stat(e.path); err == nil && st.IsDir() && external {
			return fmt.Errorf("etcd.external %s %s is a folder, not a file: fix the path in the ClusterConfiguration (--config), or move the folder away; nothing was changed", field, e.path)
		}
	}
	return nil
}

// externalFields are the settings of etcd.external that say where
// kubeadm's entries of an external etcd's files go.
var externalFields = map[string]string{externalEtcdCA: "caFile", externalEtcdCert: "certFile", externalEtcdKey: "keyFile"}

// fileOnTheWay returns dir, or the nearest of its parents that exists,
// when that is not a folder; "" when it is one.
func fileOnTheWay(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		switch {
		case err == nil && st.IsDir():
			return "", nil
		case err == nil:
			return d, nil
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return "", fmt.Errorf("check folder %s: %w", d, err)
		case d == filepath.Dir(d):
			return "", nil
		}
	}
}
