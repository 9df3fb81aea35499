package node

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/certctl/certctl/internal/filekind"
	"github.com/certctl/certctl/pki"
)

// checkFolders refuses a certificate or kubeconfig folder that exists but
// is not a folder, naming the flag: otherwise the first read fails with
// "open DIR: not a directory" (issue 14, item 9), which reads as a
// missing folder rather than a wrong path. A folder that does not exist
// is left to each command, which says what is missing. kubeconfigDirs is
// the kubeconfig folder, then the others a command's transactions write
// in: the static pod manifests' (ca rotate). The etcd folder in certDir
// too, which recovery reads: a file there failed every command with
// "read directory DIR/etcd: open DIR/etcd: not a directory", which does
// not say what to do.
//
// A folder that is a symbolic link to nothing is refused too, naming the
// link's target: on nodes that keep /etc/kubernetes/pki on a data volume
// (a link to /data/pki), a volume that is not mounted made commands say
// that the folder, or etcd/ca.crt, does not exist ("restore it from a
// backup"), and init-phase "mkdir DIR: file exists".
func checkFolders(certDir string, kubeconfigDirs []string) error {
	for i, dir := range append([]string{certDir}, kubeconfigDirs...) {
		flag, kubeadms := "--cert-dir", "/etc/kubernetes/pki"
		switch {
		case i == 1:
			flag, kubeadms = "--kubeconfig-dir", "/etc/kubernetes"
		case i > 1:
			flag, kubeadms = "--manifest-dir", "/etc/kubernetes/manifests"
		}
		// A folder, one that does not exist or one that cannot be looked
		// at: the command's own reads say what to do.
		if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
			return fmt.Errorf("%s %s is a file, not a folder: pass the folder that holds the files (kubeadm's is %s)", flag, dir, kubeadms)
		}
		if err := danglingLink(flag+" "+dir, dir); err != nil {
			return err
		}
		if err := parentFault(flag, dir, kubeadms); err != nil {
			return err
		}
	}
	etcd := filepath.Join(certDir, "etcd")
	if fi, err := os.Stat(etcd); err == nil && !fi.IsDir() {
		return fmt.Errorf("%s is a file, not a folder: move it away; kubeadm keeps etcd's certificates in the folder etcd of --cert-dir %s", etcd, certDir)
	}
	return danglingLink(etcd, etcd)
}

// parentFault refuses dir, given by flag, when no path can pass through
// one of its parents: a file, or a symbolic link that leads back to
// itself (filekind.Blocking). Every command failed on it with the first
// path it tried ("open lock file DIR/.certctl.lock: not a directory"),
// and a loop read as a lock file that is a link to remove.
func parentFault(flag, dir, kubeadms string) error {
	parent, loop := filekind.Blocking(dir)
	switch {
	case parent == "":
		return nil
	case loop:
		return danglingLink(parent, parent) // names the link, as for a parent linked to nothing
	}
	return fmt.Errorf("%s %s is inside %s, which is a file, not a folder: pass the folder that holds the files (kubeadm's is %s)", flag, dir, parent, kubeadms)
}

// danglingLink refuses path, called name in the message, when it is a
// symbolic link whose target does not exist, or one that leads back to
// itself: every read through such a loop said only "open DIR: too many
// levels of symbolic links", or "read directory DIR: ..." for the
// kubeconfig folder, naming neither the flag nor what to correct.
func danglingLink(name, path string) error {
	if dest, ok := filekind.LinkLoop(path); ok {
		return fmt.Errorf("%s is a symbolic link to %s, which leads back to itself (a loop of symbolic links): correct the link (ls -l %s) so that it leads to the folder", name, dest, path)
	}
	dest, ok := pki.DanglingLink(path)
	if !ok {
		return nil
	}
	return fmt.Errorf("%s is a symbolic link to %s, which does not exist: mount the volume that holds it, or correct the link", name, dest)
}
