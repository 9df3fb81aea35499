package signer

import (
	"crypto/x509"
	"fmt"

	"github.com/certctl/certctl/pki"
)

// The checks of signer run's CAs, at start and on a reload: each of
// certctl's signer names signs with one CA, and a custom signer never
// with one of the node's.

// checkFlagCAs checks the CAs the --*-ca-cert/--*-ca-key flags named, by CA
// name: each of certctl's signer names signs with one CA (CAFor), so a
// flag's CA must be the one of its file in the certificate folder dir (and
// none of the folder's other CAs where that file is absent, nor share the
// key of one), and no CA, nor one key, may be given for two flags, which
// would sign both CAs' names.
func checkFlagCAs(dir string, cas map[string]CAProvider) error {
	var seen []string
	for _, e := range pki.Kubeadm().Select(false, pki.KindCA) {
		p := cas[e.Name]
		if p == nil {
			continue
		}
		if err := checkFlagCA(dir, e.Name, p.Current().Cert, seen, cas); err != nil {
			return err
		}
		seen = append(seen, e.Name)
	}
	return nil
}

// checkFlagCA checks cert, the CA of the flag of CA name, against the
// certificate folder dir and the current CAs of the flags others (see
// checkFlagCAs); a reload checks it against all the others.
func checkFlagCA(dir, name string, cert *x509.Certificate, others []string, cas map[string]CAProvider) error {
	flag := func(name string) string { return "--" + name + "-cert" }
	for _, other := range others {
		p := cas[other]
		if other == name || p == nil || !pki.SamePublicKey(p.Current().Cert.PublicKey, cert.PublicKey) {
			continue
		}
		what := fmt.Sprintf("both name the CA %q", cert.Subject.CommonName)
		if oc := p.Current().Cert; !sameCA(oc, cert) {
			what = fmt.Sprintf("name CAs of one key (%q and %q)", oc.Subject.CommonName, cert.Subject.CommonName)
		}
		return fmt.Errorf("%s and %s %s: each CA signs its own signer names; pass each flag the files of its CA, or leave a flag out to leave its names to other signers", flag(other), flag(name), what)
	}
	l, err := locateCA(dir, name, cert)
	switch {
	case err != nil:
		return fmt.Errorf("check the CA of %s: %w", flag(name), err)
	case l.wantFile != "" && !l.isWant:
		return fmt.Errorf("%s names the CA %q, which is not %s of the certificate folder (%s): pass the files of %s, or --cert-dir", flag(name), cert.Subject.CommonName, name, l.wantFile, name)
	case l.other != "":
		return fmt.Errorf("%s names the CA %q, which is %s of the certificate folder (%s), not %s: its signer names would be signed by the wrong CA; pass the files of %s", flag(name), cert.Subject.CommonName, l.other, l.otherFile, name, name)
	}
	h, err := otherCAWithKey(dir, name, cert)
	if err != nil {
		return fmt.Errorf("check the CA of %s: %w", flag(name), err)
	}
	if h.file != "" {
		return fmt.Errorf("%s names the CA %q, whose key is that of %s of the certificate folder (%s, CA %q): one key may not sign for two CAs; pass the files of %s", flag(name), cert.Subject.CommonName, h.name, h.file, h.cert.Subject.CommonName, name)
	}
	return nil
}

// checkDirCAs checks the CAs read from the certificate folder dir (no
// --*-ca-cert flag), by CA name, as checkFlagCAs checks the flags': each
// of certctl's signer names signs with one CA (CAFor), so no CA, nor its
// key, may serve two roles (checkDirCA). LoadCASource has checked that
// each file holds a CA whose key is its key.
func checkDirCAs(dir string, cas map[string]CAProvider) error {
	for _, e := range pki.Kubeadm().Select(false, pki.KindCA) {
		if p := cas[e.Name]; p != nil {
			if err := checkDirCA(dir, e.Name, p.Current().Cert, cas); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkDirCA refuses cert, the CA read from the files of CA name in the
// certificate folder dir, when another CA file of the folder holds a
// certificate with its key (otherCAWithKey), or another of cas signs with
// its key: ca.crt and ca.key replaced by front-proxy-ca's pair would sign
// the cluster's names with the front-proxy CA, and so would the two pairs
// swapped, which a reload sees as each file holding one CA. A reload
// checks it too, and refuses the changed pair.
func checkDirCA(dir, name string, cert *x509.Certificate, cas map[string]CAProvider) error {
	store := pki.Store{Dir: dir}
	own := store.CertPath(pki.Kubeadm().BaseName(name))
	const todo = "put back each CA's own pair (certificate and key), from a backup or another control-plane node"
	h, err := otherCAWithKey(dir, name, cert)
	if err != nil {
		return fmt.Errorf("check the CA of %s: %w", own, err)
	}
	if h.file != "" {
		what := fmt.Sprintf("the CA %q, which %s holds too", cert.Subject.CommonName, h.file)
		if !sameCA(h.cert, cert) {
			what = fmt.Sprintf("the CA %q, whose key is that of the CA %q of %s", cert.Subject.CommonName, h.cert.Subject.CommonName, h.file)
		}
		return fmt.Errorf("%s (%s) holds %s: one CA may not sign the signer names of both %s and %s; %s", own, name, what, name, h.name, todo)
	}
	for _, e := range pki.Kubeadm().Select(false, pki.KindCA) {
		p := cas[e.Name]
		if e.Name == name || p == nil || !pki.SamePublicKey(p.Current().Cert.PublicKey, cert.PublicKey) {
			continue
		}
		return fmt.Errorf("%s (%s) holds the CA %q, whose key is that of the CA %q this signer read from %s and signs %s's names with: one CA may not sign the signer names of both %s and %s; %s",
			own, name, cert.Subject.CommonName, p.Current().Cert.Subject.CommonName, store.CertPath(e.BaseName), e.Name, name, e.Name, todo)
	}
	return nil
}

// keyHolder is a certificate of a CA file with the key of another CA.
type keyHolder struct {
	name, file string // the CA name and file that hold cert
	cert       *x509.Certificate
}

// otherCAWithKey looks, in the CA files of the certificate folder dir but
// CA name's, for a certificate with cert's key (the same CA, or another
// certificate of its key), in any place of a bundle. A zero keyHolder when
// there is none, or dir is "".
func otherCAWithKey(dir, name string, cert *x509.Certificate) (keyHolder, error) {
	return caFileWhere(dir, name, func(c *x509.Certificate) bool { return pki.SamePublicKey(c.PublicKey, cert.PublicKey) })
}

// caFileWhere looks, in the CA files of the certificate folder dir but CA
// skip's (every certificate of each, for a CA rotation's bundle), for a
// certificate that match accepts. A zero keyHolder when there is none, or
// dir is "".
func caFileWhere(dir, skip string, match func(*x509.Certificate) bool) (keyHolder, error) {
	if dir == "" {
		return keyHolder{}, nil
	}
	store := pki.Store{Dir: dir}
	for _, e := range pki.Kubeadm().Select(false, pki.KindCA) {
		file := store.CertPath(e.BaseName)
		if e.Name == skip {
			continue
		}
		ok, err := pki.Exists(file)
		if err != nil {
			return keyHolder{}, err
		}
		if !ok {
			continue
		}
		first, rest, err := pki.ReadCertFile(file)
		if err != nil {
			return keyHolder{}, fmt.Errorf("read CA certificate %s: %w", file, err)
		}
		for _, c := range append([]*x509.Certificate{first}, rest...) {
			if match(c) {
				return keyHolder{name: e.Name, file: file, cert: c}, nil
			}
		}
	}
	return keyHolder{}, nil
}

// checkCustomCA refuses a custom signer whose CA is one of the node's: one
// of cas (certctl's names' CAs) or a CA file of the certificate folder dir;
// and one whose CA certificate a node CA's key signed (an intermediate of
// the cluster CA, or a CA of another name made for a node CA's key).
// The API server, etcd and the front proxy trust those CAs, and a custom
// name is signed without the control-plane profile that certctl's names
// apply: it would issue any client identity (system:kube-controller-manager,
// a node's) to whoever gets a CSR approved. The API server takes a
// client's intermediates from its TLS chain, so an intermediate of the
// cluster CA is trusted as the cluster CA is.
func checkCustomCA(cs CustomSigner, cas map[string]CAProvider, dir string) error {
	if err := checkCustomCAIs(cs, cas, dir); err != nil {
		return err
	}
	cert := cs.CA.Current().Cert
	s, err := signerOf(cert, cas, dir)
	if err != nil {
		return fmt.Errorf("check the CA of custom signer %s: %w", cs.Name, err)
	}
	if s.name != "" {
		return fmt.Errorf("custom signer %s signs with the CA %q, which the key of the node's %s %q%s signed, and the control plane trusts what chains to it: its certificates would skip the control-plane profile of certctl's signer names; give it a CA of its own, not issued by a node CA", cs.Name, cert.Subject.CommonName, s.name, s.cert.Subject.CommonName, inFile(s.file))
	}
	// A certificate for a node CA's key that another CA issued: the node
	// CA's key would sign, without the profile, whatever the custom name is
	// approved for; one key never signs for two CAs, as for the flags.
	k, err := nodeCAWithKey(cert, cas, dir)
	if err != nil {
		return fmt.Errorf("check the CA of custom signer %s: %w", cs.Name, err)
	}
	if k.name != "" {
		return fmt.Errorf("custom signer %s signs with the CA %q, whose key is that of the node's %s %q%s: one key may not sign for two CAs, and the node CA's key would sign without the control-plane profile of certctl's signer names; give it a CA of its own key", cs.Name, cert.Subject.CommonName, k.name, k.cert.Subject.CommonName, inFile(k.file))
	}
	return nil
}

// inFile is " (file)", or "" for no file.
func inFile(file string) string {
	if file == "" {
		return ""
	}
	return " (" + file + ")"
}

// nodeCAWithKey looks, among the CA files of the certificate folder dir
// (every certificate of each; none when dir is "") and then cas, for a
// certificate with cert's key. A zero keyHolder when there is none.
func nodeCAWithKey(cert *x509.Certificate, cas map[string]CAProvider, dir string) (keyHolder, error) {
	if h, err := caFileWhere(dir, "", func(c *x509.Certificate) bool { return pki.SamePublicKey(c.PublicKey, cert.PublicKey) }); err != nil || h.name != "" {
		return h, err
	}
	for _, e := range pki.Kubeadm().Select(false, pki.KindCA) {
		if p := cas[e.Name]; p != nil && pki.SamePublicKey(p.Current().Cert.PublicKey, cert.PublicKey) {
			return keyHolder{name: e.Name, cert: p.Current().Cert}, nil
		}
	}
	return keyHolder{}, nil
}

// signerOf looks, among the CA files of the certificate folder dir (every
// certificate of each, for a CA rotation's bundle; none when dir is "")
// and then cas, for a CA whose key signed cert. A zero keyHolder when there
// is none.
func signerOf(cert *x509.Certificate, cas map[string]CAProvider, dir string) (keyHolder, error) {
	if h, err := caFileWhere(dir, "", func(c *x509.Certificate) bool { return cert.CheckSignatureFrom(c) == nil }); err != nil || h.name != "" {
		return h, err
	}
	for _, e := range pki.Kubeadm().Select(false, pki.KindCA) {
		if p := cas[e.Name]; p != nil && cert.CheckSignatureFrom(p.Current().Cert) == nil {
			return keyHolder{name: e.Name, cert: p.Current().Cert}, nil
		}
	}
	return keyHolder{}, nil
}

// checkCustomCAIs refuses a custom signer whose CA is one of the node's
// (checkCustomCA).
func checkCustomCAIs(cs CustomSigner, cas map[string]CAProvider, dir string) error {
	cert := cs.CA.Current().Cert
	node, file := "", ""
	for _, e := range pki.Kubeadm().Select(false, pki.KindCA) {
		if p := cas[e.Name]; p != nil && sameCA(p.Current().Cert, cert) {
			node = e.Name
			break
		}
	}
	if node == "" {
		l, err := locateCA(dir, "", cert)
		if err != nil {
			return fmt.Errorf("check the CA of custom signer %s: %w", cs.Name, err)
		}
		node, file = l.other, l.otherFile
	}
	if node == "" {
		return nil
	}
	where := ""
	if file != "" {
		where = " (" + file + ")"
	}
	return fmt.Errorf("custom signer %s signs with the CA %q, the node's %s%s, which the control plane trusts: its certificates would skip the control-plane profile of certctl's signer names; give it a CA of its own", cs.Name, cert.Subject.CommonName, node, where)
}
