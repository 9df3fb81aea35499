package kubeclient

import (
	"crypto/x509"
	"errors"
)

// TLSHint says what to do when the API server's certificate did not
// verify, which "is the API server up?" does not: a certificate expired
// with the rest of the node's, one not valid for the address of the
// kubeconfig's server, or one of a CA the kubeconfig does not hold (after
// a CA rotation, or another cluster). "" for another error.
func TLSHint(err error, kubeconfig string) string {
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "the API server's certificate is not valid now: on the control-plane node, see which certificates expired (sudo certctl check-expiration) and renew them from the CA on disk, then run again"
	case errors.As(err, &host):
		return "the API server's certificate is not valid for the address of the server of " + kubeconfig + ": use a name or address among its SANs (or tls-server-name in the kubeconfig), or add the address to apiServer.certSANs and renew the API server's certificate"
	case errors.As(err, &unknown):
		return "the API server's certificate is not signed by a CA of " + kubeconfig + " (certificate-authority-data): check that its server is this cluster's API server; after a CA rotation, give the kubeconfig the cluster's current CA"
	}
	return ""
}
