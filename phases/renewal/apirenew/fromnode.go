package apirenew

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

// FromNode returns the test `certctl approve|deny --all-from-node NODE`
// applies to each pending CSR (signer.Batch.Of): whether `certctl renew
// --use-api` made it on node NODE, for one of inv's renewed certificates
// (pki.Kubeadm()'s when inv is nil). It answers the certificate the CSR is
// for, "" for a CSR that is not NODE's, or an error saying why it cannot
// tell: the CSR is then left alone, with a line that asks to check it and
// approve or deny it by name.
//
// The name, certctl-NODE-CERTIFICATE-KEYHASH (CSRName), is enough when it
// reads one way only and carries NODE alone. It reads several ways when a
// certificate's name ends with "-" and another's: node cp's
// super-admin.conf and node cp-super's admin.conf are both
// certctl-cp-super-admin.conf-KEYHASH. It carries other nodes too when
// CSRName cut NODE's name to fit 253 characters, or changed characters a
// Kubernetes node name cannot have. Then the request decides, as
// kube-controller-manager's CSR approver recognizes a kubelet's CSR by
// what it asks for, not by its name (pkg/controller/certificates/approver):
// it must fit the certificate a NODE reading gives, on NODE (pki's profile:
// its subject and usages, checked as approve checks them, and NODE among
// its DNS SANs where kubeadm puts it; etcd's CN is NODE), and no other
// reading. Where the name does not carry NODE alone, that certificate must
// also name its node (etcd-server, etcd-peer, apiserver): admin.conf's
// cannot tell two nodes apart. A CSR that fits another reading only is
// that node's: "".
//
// The signer name is not compared: renew's --signer-name changes it, and
// approve checks it against the certificate the request fits.
func FromNode(node string, inv pki.Inventory) func(*certv1.CertificateSigningRequest) (string, error) {
	if inv == nil {
		inv = pki.Kubeadm()
	}
	return nodeCSRs{node: node, inv: inv.Renewed(false)}.which
}

type nodeCSRs struct {
	node string
	inv  pki.Inventory
}

// which is the certificate of m.node that csr is for; "" for another
// node's, and an error when it cannot tell (FromNode).
func (m nodeCSRs) which(csr *certv1.CertificateSigningRequest) (string, error) {
	var mine, others []nameReading
	for _, r := range readNames(csr.Name, m.inv.CertNames()) {
		if r.part == nodePart(m.node, r.target) {
			mine = append(mine, r)
		} else {
			others = append(others, r)
		}
	}
	switch {
	case len(mine) == 0:
		return "", nil
	case len(mine) == 1 && len(others) == 0 && partIsNode(m.node, mine[0].target):
		return mine[0].target, nil
	}
	// The name cannot tell: the request does.
	req, err := signer.ParseRequest(csr)
	if err != nil {
		return "", fmt.Errorf("its name reads as %s, and its request cannot tell: %w", m.readings(mine, others), err)
	}
	var fit []string
	for _, r := range others {
		if m.fits(csr, req, r.target, r.part) {
			fit = append(fit, describe(r, r.part))
		}
	}
	i := slices.IndexFunc(mine, func(r nameReading) bool { return m.fits(csr, req, r.target, m.node) })
	switch {
	case i < 0 && len(fit) > 0:
		return "", nil // another node's
	case i < 0:
		fitsNone := "does not fit it"
		if len(mine)+len(others) > 1 {
			fitsNone = "fits none of them"
		}
		return "", fmt.Errorf("its name reads as %s, and its request (subject %q, usages %s) %s", m.readings(mine, others), req.Subject.String(), signer.UsageList(csr.Spec.Usages), fitsNone)
	case len(fit) > 0:
		return "", fmt.Errorf("its name and request fit %s and also %s", describe(mine[i], m.node), strings.Join(fit, " and "))
	case !partIsNode(m.node, mine[i].target) && !m.namesNode(mine[i].target):
		return "", fmt.Errorf("CSR names carry node %s as %q, as they carry every node name that certctl cuts or changes to it, and %s does not name its node", m.node, mine[i].part, mine[i].target)
	}
	return mine[i].target, nil
}

// fits reports whether csr, whose request is req, asks for the
// certificate target of node: its subject and usages on that node as
// approve checks them (signer.SubjectFits, signer.UsagesFit against pki's
// profile), and node among its DNS SANs where that profile has it.
func (m nodeCSRs) fits(csr *certv1.CertificateSigningRequest, req *x509.CertificateRequest, target, node string) bool {
	e, ok := m.inv.Find(target)
	if !ok {
		return false
	}
	prof := pki.Node{Name: node}.Profile(e)
	if !signer.SubjectFits(req, prof) || !signer.UsagesFit(csr.Spec.Usages, prof) {
		return false
	}
	return !slices.Contains(prof.DNSNames, node) || slices.Contains(req.DNSNames, node)
}

// namesNode reports whether target's certificate names its node, in its
// CN (etcd-server, etcd-peer) or its DNS SANs (apiserver), as pki's
// profile of it on m.node says.
func (m nodeCSRs) namesNode(target string) bool {
	e, ok := m.inv.Find(target)
	return ok && (e.NodeCN || slices.Contains(pki.Node{Name: m.node}.Profile(e).DNSNames, m.node))
}

// describe names reading r of node: "node cp's super-admin.conf".
func describe(r nameReading, node string) string {
	return fmt.Sprintf("node %s's %s", node, r.target)
}

// readings names mine, m.node's readings, and the others: "node cp's
// super-admin.conf or node cp-super's admin.conf".
func (m nodeCSRs) readings(mine, others []nameReading) string {
	var s []string
	for _, r := range mine {
		s = append(s, describe(r, m.node))
	}
	for _, r := range others {
		s = append(s, describe(r, r.part))
	}
	return strings.Join(s, " or ")
}
