package expiration

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/filekind"
	"github.com/certctl/certctl/pki"
)

// checkFolders reports the certificate folder, its etcd folder and the
// kubeconfig folder when group or others may write them: they could
// replace a CA, a key or a kubeconfig there as well as its owner could.
// kubeadm makes them 0755 or 0700. A sticky folder (1777) still lets
// them add a missing file, so it is reported too. A missing folder is not
// this check's (config.MissingFolder).
//
// So are the folders of kubeletFiles, the client certificate and key that
// kubelet.conf names after the TLS bootstrap
// (/var/lib/kubelet/pki/kubelet-client-current.pem), and of the files they
// link to (the kubelet's dated kubelet-client-DATE.pem): whoever may write
// there may give the kubelet another identity. The kubelet makes them 0755.
func checkFolders(certDir, kubeconfigDir string, kubeletFiles []string) []Folder {
	const kubelet = "kubelet-cert-dir"
	candidates := []Folder{
		{Name: "cert-dir", File: certDir},
		{Name: "etcd-cert-dir", File: filepath.Join(certDir, "etcd")},
		{Name: "kubeconfig-dir", File: kubeconfigDir},
	}
	for _, f := range kubeletFiles {
		candidates = append(candidates, Folder{Name: kubelet, File: filepath.Dir(f)})
		if target, err := filepath.EvalSymlinks(f); err == nil {
			candidates = append(candidates, Folder{Name: kubelet, File: filepath.Dir(target)})
		}
	}
	var out []Folder
	var seen []fs.FileInfo // a folder named twice (kubelet.conf names one file twice, a link in the folder) is reported once
	for _, f := range candidates {
		fi, err := os.Stat(f.File)
		if f.File == "" || err != nil || !fi.IsDir() || slices.ContainsFunc(seen, func(s fs.FileInfo) bool { return os.SameFile(s, fi) }) {
			continue
		}
		seen = append(seen, fi)
		if fi.Mode().Perm()&0o022 == 0 {
			continue
		}
		row := Certificate{}
		if f.Name == kubelet {
			row.add(FolderPermissions, "folder %s is mode %04o: group or others may write it, and so replace the kubelet's client certificate and key in it (which %s names), giving the kubelet another identity: chmod go-w %s", f.File, modeBits(fi), pki.KubeletKubeconfig, f.File)
		} else {
			row.add(FolderPermissions, "folder %s is mode %04o: group or others may write it, and so replace a CA, a key or a kubeconfig in it: chmod go-w %s", f.File, modeBits(fi), f.File)
		}
		f.Problems = row.Problems
		out = append(out, f)
	}
	return out
}

// modeBits are a file's permission bits with setuid, setgid and sticky, as
// ls and chmod write them (fs.FileMode keeps these apart).
func modeBits(fi fs.FileInfo) uint32 {
	m := uint32(fi.Mode().Perm())
	if fi.Mode()&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	if fi.Mode()&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	return m
}

// checkOwner reports a file holding a private key or naming one (fi is
// path's) owned by another user than root and its folder's owner: that user may read it,
// and replace it, whatever its mode. A tree all one user's (not root's) is
// that user's own business, and not reported.
func checkOwner(row *Certificate, path string, fi fs.FileInfo) {
	if uid, who, ok := foreignOwner(path, fi); ok {
		row.add(KeyOwner, "%s is owned by user %d, not root or the owner of its folder: that user may read and replace it: chown %s %s", path, uid, who, path)
	}
}

// checkWritable reports a kubeconfig that holds no credential itself (fi is
// path's; kubelet.conf after the TLS bootstrap names its key file) but that
// group or others may write: they may point its client at another API
// server and CA, or at their own key and certificate. It is a
// cert-permissions problem, as a CA certificate others may replace is: it
// holds the CA its client trusts. kubeadm writes kubeconfigs 0600.
func checkWritable(row *Certificate, path string, fi fs.FileInfo) {
	if fi.Mode().Perm()&0o022 != 0 {
		row.add(CertPermissions, "kubeconfig %s is mode %04o: group or others may write it, and so point its client at another API server, CA or key: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
}

// checkReplaceable reports a certificate file (a CA's too) or sa.pub that
// group or others may write, or that another user than root and its
// folder's owner owns: they may replace it, and a CA certificate replaced
// makes the components trust what another CA signs, sa.pub replaced the
// service-account tokens another key signs. kubeadm writes them 0644.
// A file that holds a key too is checked by checkMode already.
func checkReplaceable(row *Certificate, path string) {
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	if fi.Mode().Perm()&0o022 != 0 {
		row.add(CertPermissions, "%s is mode %04o: group or others may write it, and so replace it: chmod 644 %s", path, fi.Mode().Perm(), path)
	}
	if uid, who, ok := foreignOwner(path, fi); ok {
		row.add(CertPermissions, "%s is owned by user %d, not root or the owner of its folder: that user may replace it: chown %s %s", path, uid, who, path)
	}
}

// foreignOwner reports the owner uid of path (fi is path's) when it is
// neither root nor its folder's owner, with who ought to own it: root, or
// the folder's owner when that is not root.
func foreignOwner(path string, fi fs.FileInfo) (uid int, who string, ok bool) {
	uid, _ = filekind.Owner(fi)
	if uid <= 0 {
		return 0, "", false
	}
	dir, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return 0, "", false
	}
	dirUID, _ := filekind.Owner(dir)
	if dirUID < 0 || uid == dirUID {
		return 0, "", false
	}
	who = "root"
	if dirUID != 0 {
		who = strconv.Itoa(dirUID)
	}
	return uid, who, true
}

// embedsSecret reports whether a kubeconfig holds a credential itself (a
// client key, a token, a password) rather than naming files.
func embedsSecret(cfg *clientcmdapi.Config) bool {
	for _, u := range cfg.AuthInfos {
		if len(u.ClientKeyData) > 0 || u.Token != "" || u.Password != "" {
			return true
		}
	}
	return false
}

// checkKubeletCert reports the kubelet's client certificate file that
// kubelet.conf names (certPath) when another user may replace it
// (checkReplaceable), as any certificate file. keyFile is the key file
// checkMode checked, "" for none: when it is the same file
// (kubelet-client-current.pem holds both), checkMode has reported its mode
// and owner already, as a key's.
func checkKubeletCert(row *Certificate, certPath, keyFile string) {
	if keyFile != "" {
		c, errC := os.Stat(certPath)
		k, errK := os.Stat(keyFile)
		if errC == nil && errK == nil && os.SameFile(c, k) {
			return
		}
	}
	checkReplaceable(row, certPath)
}
