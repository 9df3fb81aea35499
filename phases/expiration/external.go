package expiration

import (
	"crypto/x509"
	"errors"
	"io/fs"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// The rows of an external etcd's files (etcd.external in the
// configuration): kube-apiserver's etcd client certificate and the CA it
// trusts etcd with. kubeadm makes no etcd certificate for an external etcd,
// so apiserver-etcd-client is not listed; these files are the ones
// kube-apiserver uses instead (--etcd-certfile, --etcd-keyfile,
// --etcd-cafile), checked like the others.
const (
	ExternalEtcdClient = "external-etcd-client"
	ExternalEtcdCA     = "external-etcd-ca"
)

// notRenewedExternal says why renew leaves the external etcd's files alone.
const notRenewedExternal = "etcd.external's files are issued by the external etcd's CA: certctl does not renew them; renew them where that etcd's certificates are made, then restart kube-apiserver"

// externalEtcd checks etcd.external's client certificate and key, and its
// CA file when set: expiry, key, chain. The CA row is nil without caFile.
func (c *checker) externalEtcd(ext config.ExternalEtcd) (Certificate, *Certificate) {
	row := Certificate{Name: ExternalEtcdClient, File: ext.CertFile, CAName: ExternalEtcdCA, ExternallyManaged: true,
		NotRenewed: notRenewedExternal, Problems: []Problem{}}
	var ca *Certificate
	var caCert *x509.Certificate
	if ext.CAFile != "" {
		ca = &Certificate{Name: ExternalEtcdCA, File: ext.CAFile, ExternallyManaged: true, NotRenewed: notRenewedExternal, Problems: []Problem{}}
		if certs, ok := c.readCert(ca); ok {
			caCert = certs[0]
		}
	}
	certs, ok := c.readCert(&row)
	if !ok {
		if row.Missing {
			// Missing is no problem for kubeadm's own files (an external
			// etcd has none); this one kube-apiserver cannot start without.
			row.add(Unreadable, "etcd.external.certFile %s does not exist: kube-apiserver cannot reach etcd without it; put the client certificate of the external etcd there, or fix etcd.external.certFile", row.File)
		}
		return row, ca
	}
	cert := certs[0]
	if ext.KeyFile == "" {
		row.add(KeyMissing, "etcd.external has certFile %s but no keyFile: set etcd.external.keyFile to its key", row.File)
	} else if _, err := pki.ReadFile(ext.KeyFile); errors.Is(err, fs.ErrNotExist) {
		row.add(KeyMissing, "%s exists but its key %s (etcd.external.keyFile) does not: put the key there, or fix etcd.external.keyFile", row.File, ext.KeyFile)
	} else {
		c.checkKey(&row, cert, ext.KeyFile, true, "")
	}
	switch {
	case ext.CAFile == "":
	case caCert == nil:
		row.add(CAMissing, "cannot check that %s is signed by etcd.external.caFile %s: it is missing or unreadable; put the external etcd's CA there", row.File, ext.CAFile)
	case pki.VerifySignedBy(cert, certs[1:], caCert, c.o.Now) != nil:
		row.add(NotSignedByCA, "%s is not signed by etcd.external.caFile %s: etcd refuses it unless it trusts the CA that signed it; get a client certificate from the external etcd's CA", row.File, ext.CAFile)
	}
	return row, ca
}
