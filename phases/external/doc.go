// Package external is certctl's external CA mode: the CA keys are not on
// the node, an external CA signs.
//
// WriteCSRs writes, for the certificates of a node, a new key, a CSR and a
// request file (external/reqfile) saying what the CA operator must sign;
// Import checks each certificate the CA returned against its request, key
// and CA, and installs the ones that pass, crash-safely, with a backup.
//
// The CSR folder mirrors the certificate folder, with the kubeconfig files
// at its top, as `kubeadm certs generate-csr` lays them out when given the
// same folder for --cert-dir and --kubeconfig-dir:
//
//	DIR/apiserver.key             the new private key (0600)
//	DIR/apiserver.csr             the CSR (0600, as kubeadm)
//	DIR/apiserver.request.json    what to sign (reqfile)
//	DIR/apiserver.crt             the signed certificate, put there by the CA operator
//	DIR/etcd/server.key ...       the etcd certificates, under etcd/
//	DIR/admin.conf                a kubeconfig holding only the new key (0600)
//	DIR/admin.conf.csr
//	DIR/admin.conf.request.json
//	DIR/admin.conf.crt            the signed certificate (or client-certificate-data in admin.conf)
package external
