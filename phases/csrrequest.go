package phases

import (
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
)

// requestSpec is what the request file of p says besides its file names:
// what the CA ca must put in p's certificate that a CSR cannot say (key
// usages, extended key usages, the CA, the validity), for the CA operator
// and for `certctl certs import`, which checks the signed certificate
// against it. The CA is identified by its certificate when one is in the
// cert dir already.
func (env *Env) requestSpec(p, ca pki.Profile) reqfile.Spec {
	caCert, _, err := env.store().ReadCert(ca.BaseName)
	if err != nil {
		// Not there yet (the CA operator provides it), or not readable:
		// the import checks the CA certificate that is there then.
		caCert = nil
	}
	return reqfile.Spec{Profile: p, CAName: ca.Name, CAFile: ca.BaseName + ".crt", CA: caCert,
		Validity: env.Cluster.CertificateValidity}
}
