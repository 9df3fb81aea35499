package node

import "github.com/certctl/certctl/manifests/staticpods"

// LoadOwed reads the restarts that renewals of certDir still owe
// (staticpods.PendingFileName) beside every name of the folder: the one
// beside certDir, where a run given certDir writes, and those beside its
// aliases, left by runs given another name (`renew
// --restart-control-plane` through /etc/kubernetes/pki, a link to
// /data/pki, then check-expiration given /data/pki). Every reader of the
// record goes through it; the returned record's Save keeps what is still
// owed beside certDir and removes the others.
func LoadOwed(certDir string, kubeconfigDirs []string) (*staticpods.Pending, error) {
	// renew reads it first: a folder no path leads to is named as such.
	if err := checkFolders(certDir, kubeconfigDirs); err != nil {
		return nil, err
	}
	path, err := staticpods.PendingPath(certDir)
	if err != nil {
		return nil, err
	}
	var also []string
	for _, a := range Names(certDir, kubeconfigDirs)[1:] {
		if p, err := staticpods.PendingPath(a); err == nil {
			also = append(also, p)
		}
	}
	return staticpods.LoadPending(path, also...)
}
