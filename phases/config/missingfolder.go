package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/certctl/certctl/pki"
)

// MissingFolder returns an error naming the first of a node's folders that
// does not exist: a mistyped --cert-dir or --kubeconfig-dir. Some missing
// files are kubeadm's !MISSING! rows (super-admin.conf on every
// control-plane node but the first, the certificates of an external etcd),
// so a run that finds only those succeeds; a folder that is not there at
// all would read the same, and a cron job would keep succeeding while
// nothing in it is checked or renewed. An empty kubeconfigDir is not
// checked. A folder that is a symbolic link to a missing target (an
// unmounted volume) is named with its target.
func MissingFolder(certDir, kubeconfigDir string) error {
	for _, f := range []struct{ dir, what, flag, kubeadms string }{
		{certDir, "certificate", "--cert-dir (or certificatesDir in --config)", DefaultCertificatesDir},
		{kubeconfigDir, "kubeconfig", "--kubeconfig-dir", DefaultKubeconfigDir},
	} {
		if f.dir == "" {
			continue
		}
		if _, err := os.Stat(f.dir); errors.Is(err, fs.ErrNotExist) {
			// An unmounted volume: the folder is there, as a link to a
			// target that is not. Same words as phases/node's check.
			if dest, ok := pki.DanglingLink(f.dir); ok {
				return fmt.Errorf("the %s folder %s is a symbolic link to %s, which does not exist: mount the volume that holds it, or correct the link; or point %s at the node's folder", f.what, f.dir, dest, f.flag)
			}
			return fmt.Errorf("the %s folder %s does not exist: point %s at the node's folder (kubeadm's is %s)", f.what, f.dir, f.flag, f.kubeadms)
		}
	}
	return nil
}
