package node

import (
	"fmt"
	"os"
)

// checkFolders refuses a certificate or kubeconfig folder that exists but
// is not a folder, naming the flag: otherwise the first read fails with
// "open DIR: not a directory" (issue 14, item 9), which reads as a
// missing folder rather than a wrong path. A folder that does not exist
// is left to each command, which says what is missing.
func checkFolders(certDir string, kubeconfigDirs []string) error {
	check := func(flag, dir string) error {
		// A folder, one that does not exist or one that cannot be looked
		// at: the command's own reads say what to do.
		if fi, err := os.Stat(dir); err != nil || fi.IsDir() {
			return nil
		}
		return fmt.Errorf("%s %s is a file, not a folder: pass the folder that holds the files (kubeadm's is %s)", flag, dir, map[string]string{"--cert-dir": "/etc/kubernetes/pki", "--kubeconfig-dir": "/etc/kubernetes"}[flag])
	}
	if err := check("--cert-dir", certDir); err != nil {
		return err
	}
	for _, d := range kubeconfigDirs {
		if err := check("--kubeconfig-dir", d); err != nil {
			return err
		}
	}
	return nil
}
