package pkitest

import (
	"crypto/x509"

	"github.com/certctl/certctl/pki"
)

// Extra is a certificate kubeadm does not make: the row a test adds to a
// test-only inventory (ExtraInventory) to show that one row is all a new
// certificate needs.
var Extra = pki.Entry{Name: "audit-webhook-client", LongName: "certificate for the API server to call its audit webhook",
	BaseName: "audit/webhook-client", Kind: pki.KindLeaf, CAName: pki.FrontProxyCAName, CommonName: "kube-apiserver-audit",
	Organization: []string{"audit"}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	Restart: []string{pki.KubeAPIServer}, Signer: pki.SignerFrontProxyClient}

// ExtraInventory is kubeadm's inventory with the row Extra.
func ExtraInventory() pki.Inventory { return append(pki.Kubeadm(), Extra) }
