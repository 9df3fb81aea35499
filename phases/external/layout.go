package external

import (
	"os"
	"path/filepath"

	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/phases/renewal"
)

// kubeadmCertSubdir is where kubeadm's documented external-CA layout puts
// the certificates' keys and CSRs under the kubeconfig files' folder:
// `kubeadm certs generate-csr --kubeconfig-dir DIR --cert-dir DIR/pki`
// (https://kubernetes.io/docs/reference/setup-tools/kubeadm/generated/kubeadm_certs_generate-csr/).
const kubeadmCertSubdir = "pki"

// leafDir is the folder of the certificates' (not the kubeconfig files')
// keys and CSRs in csrDir: csrDir itself, or, when csrDir holds none of
// them and its pki folder does, csrDir/pki. Without it, an import from
// kubeadm's layout installed the kubeconfig files only, ignored every
// certificate under pki/ as "not a certificate of the inventory", and
// exited 0.
func leafDir(csrDir string, targets []renewal.Target) string {
	has := func(dir string) bool {
		for _, t := range targets {
			if t.Kubeconfig {
				continue
			}
			f := reqfile.FilesOf(dir, t.BaseName, reqfile.KeyFile{})
			for _, p := range []string{f.CSR, f.Key, f.Cert} {
				if _, err := os.Lstat(p); err == nil {
					return true
				}
			}
		}
		return false
	}
	if sub := filepath.Join(csrDir, kubeadmCertSubdir); !has(csrDir) && has(sub) {
		return sub
	}
	return csrDir
}

// dirOf is the folder of t's key, CSR, request file and signed
// certificate.
func (im *importer) dirOf(t renewal.Target) string {
	if t.Kubeconfig {
		return im.o.CSRDir
	}
	return im.leafDir
}

// csrFiles are t's files in its folder of the CSR folder (dirOf).
func (im *importer) csrFiles(t renewal.Target) reqfile.Files {
	return t.CSRFiles(im.dirOf(t), im.o.CertDir, im.o.KubeconfigDir)
}
