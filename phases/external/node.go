package external

import (
	"cmp"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// thisNode is a name of the node and what says it: its certificates in
// force (node), or --config (ImportOptions.NodeName).
type thisNode struct {
	name string // "" when no certificate in force names the node, or two disagree
	from string // the file that names it
	// configured: the name is --config's (ImportOptions.NodeName), which
	// holds with no certificate in force.
	configured bool
}

// node is the node's name as the certificates in force that name it say
// it (the CN of etcd's server and peer certificates, of kubelet.conf's),
// each issued by its CA. A node does not change its name: a request for
// another node's name comes from another node's CSR folder, whose
// certificates would make this node serve and sign in as that node.
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

// nodes are the names this node is known by, each with where it is said:
// --config's nodeRegistration.name (ImportOptions.NodeName), which holds
// from the first installation on, when no certificate names the node yet;
// then the one the certificates in force say (node), when it is another.
// Two that differ refuse every request that names a node: one of them is
// another node's, and the warning says which to check.
func (im *importer) nodes() []thisNode {
	var out []thisNode
	if im.o.NodeName != "" {
		out = append(out, thisNode{name: im.o.NodeName, from: "nodeRegistration.name of " + cmp.Or(im.o.ConfigFile, "the configuration"), configured: true})
	}
	if n := im.node(); n.name != "" && (len(out) == 0 || n.name != out[0].name) {
		out = append(out, n)
		if len(out) == 2 && !im.nodesWarned {
			im.nodesWarned = true
			im.res.Warnings = append(im.res.Warnings, fmt.Sprintf("%s names the node %q, but %s says it is %q: a request that names a node is refused; give the --config of this node",
				out[0].from, out[0].name, n.from, n.name))
		}
	}
	return out
}

// checkNode refuses what the request at from asks for t (want) when it
// names another node than this one (nodes): a CN naming the node, or SANs
// without the node's name where t's certificate in force (cur) has it,
// or, with no certificate in force, where certctl's inventory puts it
// (the API server's, with --config).
func (im *importer) checkNode(t renewal.Target, e pki.Entry, want pki.Profile, from string, cur *x509.Certificate) error {
	for _, n := range im.nodes() {
		if err := im.checkNodeIs(t, e, want, from, cur, n); err != nil {
			return err
		}
	}
	return nil
}

// checkNodeIs is checkNode for one name of the node, n.
func (im *importer) checkNodeIs(t renewal.Target, e pki.Entry, want pki.Profile, from string, cur *x509.Certificate, n thisNode) error {
	var asked string
	if e.NodeCN {
		if name, ok := strings.CutPrefix(want.CommonName, e.CommonName); ok && name != n.name {
			asked = fmt.Sprintf("a certificate of node %q (CN=%s), but this node is %q, as %s says", name, want.CommonName, n.name, n.from)
		}
	} else if !slices.Contains(want.DNSNames, n.name) {
		has := ""
		switch {
		case cur != nil && slices.Contains(cur.DNSNames, n.name):
			has = t.File(im.o.CertDir, im.o.KubeconfigDir) + " has"
		case cur == nil && n.configured && slices.Contains(pki.Node{Name: n.name}.Profile(e).DNSNames, n.name):
			has = "certctl's inventory gives " + t.Name
		}
		if has != "" {
			dns := "no DNS name"
			if len(want.DNSNames) > 0 {
				dns = "the DNS names " + strings.Join(want.DNSNames, ", ")
			}
			asked = fmt.Sprintf("%s, without this node's name %q (as %s says), which %s", dns, n.name, n.from, has)
		}
	}
	if asked == "" {
		return nil
	}
	return fmt.Errorf("%s asks for %s: the CSR folder is another node's, or was made with another node's settings; write the request on this node into a new folder (%s) and have it signed",
		from, asked, im.remakeIn(t, "NEWDIR"))
}
