package expiration

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// kubelet reports kubelet.conf's client certificate, wherever the file
// points (usually /var/lib/kubelet/pki/kubelet-client-current.pem, which
// the kubelet rotates). kubelet.conf itself missing is a !MISSING! row,
// as every kubeconfig's: kubeadm writes it on every node, and its missing
// series is what makes monitoring.md's KubernetesCertificateFileMissing
// fire for it.
func (c *checker) kubelet() Certificate {
	path := filepath.Join(c.o.KubeconfigDir, pki.KubeletKubeconfig)
	row := Certificate{Name: pki.KubeletKubeconfig, File: path, CAName: pki.CAName, Problems: []Problem{}}
	cfg, ok := c.loadKubeconfig(&row)
	if !ok {
		return row
	}
	_, _, userName, user, err := kubeconfig.Current(cfg)
	if err != nil {
		row.add(Unreadable, "kubeconfig %s: %v: fix its current context", path, err)
		return row
	}
	resolve := func(p string) string { return kubeconfig.Resolve(path, p) }
	certData, keyData := user.ClientCertificateData, user.ClientKeyData
	if len(certData) == 0 && user.ClientCertificate != "" {
		row.File = resolve(user.ClientCertificate)
		c.kubeletFiles = append(c.kubeletFiles, row.File)
		reading(row.File)
		if certData, err = pki.ReadFile(row.File); err != nil {
			row.add(Unreadable, "read the kubelet's client certificate %s (client-certificate of %s): %v: %s", row.File, path, err, kubeletReadFix(err))
			return row
		}
	}
	keyFile := "" // the key file whose mode checkMode checked
	if len(keyData) == 0 && user.ClientKey != "" {
		c.kubeletFiles = append(c.kubeletFiles, resolve(user.ClientKey))
		reading(resolve(user.ClientKey))
		if keyData, err = pki.ReadFile(resolve(user.ClientKey)); err != nil {
			row.add(Unreadable, "read the kubelet's client key %s (client-key of %s): %v: %s", resolve(user.ClientKey), path, err, kubeletReadFix(err))
		} else {
			keyFile = resolve(user.ClientKey)
			checkMode(&row, keyFile)
		}
	}
	// What to do about a certificate or key that cannot be used: the
	// kubelet's rotation when it is the file the kubelet rotates, else a
	// new kubelet.conf.
	fix := fmt.Sprintf("restore %s from a backup, or remove it and run %s", path, c.initKubeconfig(path))
	if row.File != path {
		fix = kubeletReadFix(nil)
	}
	if len(certData) == 0 {
		row.add(Unreadable, "kubeconfig %s: user %q has no client certificate (client-certificate or client-certificate-data): %s", path, userName, fix)
		return row
	}
	certs, err := pki.ParseCerts(certData)
	if err != nil {
		row.add(Unreadable, "parse the kubelet's client certificate in %s: %v: %s", row.File, err, fix)
		return row
	}
	c.setCert(&row, certs[0])
	if row.File != path {
		checkKubeletCert(&row, row.File, keyFile)
	}
	if len(keyData) > 0 {
		if key, err := pki.ParsePrivateKey(keyData); err != nil {
			row.add(Unreadable, "parse the kubelet's client key for %s: %v: %s", row.File, err, fix)
		} else if pki.KeyMatches(certs[0], key) != nil {
			row.add(KeyMismatch, "the kubelet's client key does not match its certificate %s: restart the kubelet so that it requests a new one", row.File)
		}
	}
	ca := c.ca(pki.CAName, pki.CAName)
	row.ExternallyManaged = ca.cert != nil && !ca.keyOnDisk
	c.checkChain(&row, certs[0], certs[1:], ca)
	// renew does not write kubelet.conf, nor does the kubelet's rotation
	// its CA data: kubectl does.
	clusterName, _, _, _, _ := kubeconfig.Current(cfg)
	c.checkKubeconfigCA(&row, cfg, ca, path, fmt.Sprintf("write the CA into it with `kubectl --kubeconfig %s config set-cluster %s --certificate-authority %s --embed-certs`, then restart the kubelet", output.ShellQuote(path), output.ShellQuote(clusterName), output.ShellQuote(ca.row.File)))
	return row
}

// kubeletReadFix says what to do when a file the kubelet rotates cannot
// be read (err): the user, not the file, is wrong when permission is denied.
func kubeletReadFix(err error) string {
	if errors.Is(err, fs.ErrPermission) {
		return "run certctl as root, or fix the permissions"
	}
	return "if the kubelet's rotation failed, restart the kubelet or re-join the node"
}
