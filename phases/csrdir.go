package phases

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/certctl/certctl/internal/certdir"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/config"
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
	return CheckCSRDirPrivate(csrDir)
}

// CheckCSRDirPrivate refuses a CSR folder that another user may write
// (certdir.CheckPrivate): group- or other-writable, or owned by another
// user than root or the one running certctl. That user could swap a key
// and its CSR for their own, of the same subject, before they go to the
// external CA (admin.conf's is system:masters'), and `certs import` would
// install their key as this node's. A folder that does not exist is no
// error: certctl makes it 0755. Its subfolders (etcd's keys and CSRs are
// in one, and kubeadm's layout puts the certificates' in another) are
// checked alike, a symbolic link by the folder it leads to: a key in one
// that another user may write is as much theirs.
func CheckCSRDirPrivate(csrDir string) error {
	const what, planted = "CSR folder", "their own key and CSR for the external CA to sign"
	if err := certdir.CheckPrivate(csrDir, what, planted); err != nil {
		return err
	}
	err := filepath.WalkDir(csrDir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist) && path == csrDir:
			return nil
		case err != nil:
			return fmt.Errorf("read CSR folder %s: %w", path, err)
		case path == csrDir || !d.IsDir() && d.Type()&fs.ModeSymlink == 0:
			return nil
		}
		if st, err := os.Stat(path); err == nil && !st.IsDir() {
			return nil // a link to a file
		}
		return certdir.CheckPrivate(path, what, planted)
	})
	return err
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

// ImportCommand is the `certctl certs import` line for these folders,
// naming only the ones that are not the default, and for the --config
// the CSRs were written with (configFile, "" for none): its
// nodeRegistration.name is the node the import makes every certificate
// that names a node name, on a first installation too, where no
// certificate in force says it yet (docs/external-ca.md).
func ImportCommand(csrDir, configFile, certDir, kubeconfigDir string) string {
	cmd := "certctl certs import --csr-dir " + output.ShellQuote(filepath.Clean(csrDir))
	if configFile != "" {
		cmd += " --config " + output.ShellQuote(configFile)
	}
	return cmd + config.FolderFlags(filepath.Clean(certDir), filepath.Clean(kubeconfigDir))
}

// importCommand is ImportCommand for this run's CSR folder, --config and
// folders.
func (env *Env) importCommand() string { return env.importCommandIn(env.CSRDir) }

// importCommandIn is ImportCommand for CSR folder dir ("DIR" in advice to
// make one) and this run's --config and folders.
func (env *Env) importCommandIn(dir string) string {
	return ImportCommand(dir, env.ConfigFile, env.Cluster.CertificatesDir, cmp.Or(env.KubeconfigDir, config.DefaultKubeconfigDir))
}
