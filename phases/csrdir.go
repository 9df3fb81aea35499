package phases

import (
	"fmt"
	"path/filepath"
	"strings"
)

// CheckCSRDir refuses, for --use-csr, a CSR folder that is the kubeconfig
// folder, or is or is inside the certificate folder: the new keys and CSRs
// would be written beside (or over) the keys in use, and the files found
// there are the node's, not an earlier run's. init-phase and renew both
// call it, before anything is read or written.
func CheckCSRDir(csrDir, certDir, kubeconfigDir string) error {
	csr := canonical(csrDir)
	cert := canonical(certDir)
	if rel, err := filepath.Rel(cert, csr); err == nil && rel == "." {
		return fmt.Errorf("--csr-dir %s is the folder of --cert-dir: the keys and CSRs for the external CA must go to a folder of their own, outside it, e.g. /root/csr", csrDir)
	} else if err == nil && !strings.HasPrefix(rel, "..") {
		return fmt.Errorf("--csr-dir %s is inside the certificate folder %s (--cert-dir): the keys and CSRs for the external CA must go to a folder of their own, outside it, e.g. /root/csr", csrDir, certDir)
	}
	if kubeconfigDir != "" && csr == canonical(kubeconfigDir) {
		return fmt.Errorf("--csr-dir %s is the folder of --kubeconfig-dir: the keys and CSRs for the external CA must go to a folder of their own, e.g. %s", csrDir, filepath.Join(kubeconfigDir, "csr"))
	}
	return nil
}

// canonical is dir absolute and with its symbolic links resolved, as far
// as it exists.
func canonical(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return filepath.Clean(dir)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	return abs
}
