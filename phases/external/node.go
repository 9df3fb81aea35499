package external

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// thisNode is the node's name as its certificates in force say it.
type thisNode struct {
	name string // "" when no certificate in force names the node, or two disagree
	from string // the file that names it
}

// node is the node's name as the certificates in force that name it say
// it (the CN of etcd's server and peer certificates, of kubelet.conf's),
// each issued by its CA. import has no node settings (no --config), but a
// node does not change its name: a request for another node's name comes
// from another node's CSR folder, whose certificates would make this
// node serve and sign in as that node.
func (im *importer) node() thisNode {
	if im.nodeRead {
		return im.thisNode
	}
	im.nodeRead = true
	for _, t := range im.targets {
		e, ok := im.inv.Find(t.Name)
		if !ok || !e.NodeCN {
			continue
		}
		ca := im.authority(t)
		if ca.err != nil {
			continue
		}
		cur := im.current(t, ca)
		if cur == nil {
			continue
		}
		name, ok := strings.CutPrefix(cur.Subject.CommonName, e.CommonName)
		if !ok || name == "" {
			continue
		}
		if im.thisNode.name != "" && im.thisNode.name != name {
			im.thisNode = thisNode{}
			return im.thisNode
		}
		if im.thisNode.name == "" {
			im.thisNode = thisNode{name: name, from: t.File(im.o.CertDir, im.o.KubeconfigDir)}
		}
	}
	return im.thisNode
}

// checkNode refuses what the request at from asks for t (want) when it
// names another node than this one: a CN naming the node, or SANs without
// the node's name that t's certificate in force (cur) has.
func (im *importer) checkNode(t renewal.Target, e pki.Entry, want pki.Profile, from string, cur *x509.Certificate) error {
	n := im.node()
	if n.name == "" {
		return nil
	}
	var asked string
	if e.NodeCN {
		if name, ok := strings.CutPrefix(want.CommonName, e.CommonName); ok && name != n.name {
			asked = fmt.Sprintf("a certificate of node %q (CN=%s), but this node is %q, as %s says", name, want.CommonName, n.name, n.from)
		}
	} else if cur != nil && slices.Contains(cur.DNSNames, n.name) && !slices.Contains(want.DNSNames, n.name) {
		dns := "no DNS name"
		if len(want.DNSNames) > 0 {
			dns = "the DNS names " + strings.Join(want.DNSNames, ", ")
		}
		asked = fmt.Sprintf("%s, without this node's name %q (as %s says), which %s has", dns, n.name, n.from, t.File(im.o.CertDir, im.o.KubeconfigDir))
	}
	if asked == "" {
		return nil
	}
	return fmt.Errorf("%s asks for %s: the CSR folder is another node's, or was made with another node's settings; write the request on this node into a new folder (%s) and have it signed",
		from, asked, im.remakeIn(t, "NEWDIR"))
}
