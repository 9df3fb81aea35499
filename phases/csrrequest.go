package phases

import (
	"crypto"
	"path"
	"path/filepath"

	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
)

// writeRequest writes BASE.request.json next to BASE.csr: what the CA ca
// must put in p's certificate that a CSR cannot say (key usages, extended
// key usages, the CA, the validity), for the CA operator and for
// `certctl certs import`, which checks the signed certificate against it.
// The CA is identified by its certificate when one is in the cert dir
// already. In the check pass (pub is nil then) it only plans the file.
// A kubeconfig's key is in the kubeconfig file BASE itself (kubeconfig).
func (env *Env) writeRequest(p, ca pki.Profile, pub crypto.PublicKey, kubeconfig bool) error {
	dir := filepath.Join(env.CSRDir, filepath.Dir(p.BaseName))
	base := path.Base(p.BaseName)
	file := reqfile.Path(dir, base)
	if env.checking {
		if ok, err := env.willExist(file); err != nil {
			return err
		} else if !ok {
			env.planCreate(file, false)
		}
		return nil
	}
	s := env.store()
	caCert, _, err := s.ReadCert(ca.BaseName)
	if err != nil {
		// Not there yet (the CA operator provides it), or not readable:
		// the import checks the CA certificate that is there then.
		caCert = nil
	}
	spec := reqfile.Spec{
		Profile: p, CSR: base + ".csr", Certificate: base + ".crt", Key: base + ".key",
		CAName: ca.Name, CAFile: ca.BaseName + ".crt", CA: caCert,
		PublicKey: pub, Validity: env.Cluster.CertificateValidity,
	}
	if kubeconfig {
		spec.Key, spec.Kubeconfig = "", base
	}
	r := reqfile.New(spec)
	_, err = reqfile.Write(file, r)
	return err
}
