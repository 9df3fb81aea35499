package renew

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/pki"
)

// EtcdQuorum is staticpods.Options.EtcdQuorum for the restarts of a node
// whose certificates are in certDir: before this node's etcd member
// restarts, the other members' /health is asked, trusting the node's etcd
// CA (etcd/ca.crt, every certificate in it: a CA rotation's bundle too)
// and presenting the first of the inventory's etcd clients whose pair
// loads (etcd/healthcheck-client, then apiserver-etcd-client), for up to
// wait (the Lease's wait, Restart.LeaseWait). Without them it says why
// the check is not made (Unchecked): the restart is then not gated, as
// before, rather than owed for a file the user may not have.
func EtcdQuorum(certDir string, wait time.Duration) *staticpods.EtcdQuorum {
	q := &staticpods.EtcdQuorum{Wait: wait}
	st := pki.Store{Dir: certDir}
	inv := pki.Kubeadm()
	caPath := st.CertPath(inv.BaseName(pki.EtcdCAName))
	ca, rest, err := pki.ReadCertFile(caPath)
	if err != nil {
		q.Unchecked = fmt.Sprintf("no etcd CA: %v", err)
		return q
	}
	q.Roots = x509.NewCertPool()
	for _, c := range append([]*x509.Certificate{ca}, rest...) {
		q.Roots.AddCert(c)
	}
	var tried []string
	for _, e := range inv.Clients(pki.EtcdCAName) {
		c, err := pki.ReadTLSPair(st.CertPath(e.BaseName), st.KeyPath(e.BaseName))
		if err == nil {
			q.Client = &c
			return q
		}
		tried = append(tried, err.Error())
	}
	q.Unchecked = fmt.Sprintf("no etcd client certificate to ask the members with: %s", strings.Join(tried, "; "))
	return q
}
