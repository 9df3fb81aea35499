package lock

import (
	"github.com/certctl/certctl/internal/certdir"
)

// FileName is certctl's lock file, in the parent of the folder it guards:
// /etc/kubernetes/.certctl.lock for /etc/kubernetes/pki and for
// /etc/kubernetes/manifests. Beside the certificate folder rather than in
// it, because kube-apiserver and etcd read that folder, and because the
// transaction folder and the backups are its siblings too.
const FileName = ".certctl.lock"

// Beside returns the lock file that guards dir: FileName in its parent.
func Beside(dir string) (string, error) {
	return certdir.Beside(dir, FileName)
}
