package config

import "github.com/certctl/certctl/internal/output"

// FolderFlags are the flags a printed certctl command needs to act on
// these folders as the command that prints it did: --cert-dir, and
// --kubeconfig-dir unless kubeconfigDir is "", each when it is not
// kubeadm's; shell-quoted, each after a space ("" for kubeadm's folders).
func FolderFlags(certDir, kubeconfigDir string) string {
	var s string
	if certDir != "" && certDir != DefaultCertificatesDir {
		s += " --cert-dir " + output.ShellQuote(certDir)
	}
	if kubeconfigDir != "" && kubeconfigDir != DefaultKubeconfigDir {
		s += " --kubeconfig-dir " + output.ShellQuote(kubeconfigDir)
	}
	return s
}
