package renewal

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/certctl/certctl/pki"
)

// setMaybeOf sets MaybeOf of each backup of bs (the backups in root)
// that is damaged and whose backup.json names no certificate folder: the
// folders the others name, and the certificate folders beside root (a
// ca.crt in them), whose backups it may hold too. The certificate folders
// of one parent keep their backups side by side, and such a backup is
// warned of by each of them (its prune, its `restore latest`), which then
// says whose it may be rather than each claiming it as its own.
func setMaybeOf(root string, bs []Backup) {
	var of []string
	add := func(d string) {
		if d != "" && !slices.ContainsFunc(of, func(o string) bool { return sameFolder(o, d) }) {
			of = append(of, d)
		}
	}
	for _, b := range bs {
		if b.Manifest != nil {
			add(b.Manifest.CertDir)
		}
		add(b.DamagedCertDir)
	}
	if !slices.ContainsFunc(bs, func(b Backup) bool { return b.Err != nil && b.DamagedCertDir == "" }) {
		return
	}
	parent := filepath.Dir(filepath.Clean(root))
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		d := filepath.Join(parent, e.Name())
		if st, err := os.Stat(filepath.Join(d, pki.Kubeadm().BaseName(pki.CAName)+".crt")); err == nil && st.Mode().IsRegular() {
			add(d)
		}
	}
	slices.Sort(of)
	for i := range bs {
		if bs[i].Err != nil && bs[i].DamagedCertDir == "" {
			bs[i].MaybeOf = of
		}
	}
}

// whose is what a warning of b, damaged, says of the certificate folder
// it was taken of, when it cannot tell: "" when its backup.json names one,
// or when the backups beside it are of one folder only.
func (b Backup) whose() string {
	if b.Err == nil || b.DamagedCertDir != "" || len(b.MaybeOf) < 2 {
		return ""
	}
	return fmt.Sprintf("; its %s names no certificate folder, and it may be a backup of any of %s, whose backups are kept together (each of them says so)", BackupManifestName, strings.Join(b.MaybeOf, ", "))
}

// setAside is how to keep b, damaged, without being told of it at every
// prune and `restore latest`: a name certctl did not give (certctlName)
// makes it a folder of the user's, listed but never latest nor pruned.
func (b Backup) setAside() string {
	return fmt.Sprintf("rename it to keep its files without this warning (mv %s %s.damaged: listed still, but never restored as latest nor pruned), or remove it if you do not need its files", b.Dir, b.Dir)
}

// NotPruned is what a prune says of a damaged backup (PruneBackupsAfter): one line,
// naming it, why (b.Err names the file), whose it may be and what to do.
func NotPruned(b Backup, keep int) string {
	todo := fmt.Sprintf("repair its %s (the list of `certctl restore` shows the others), %s", BackupManifestName, b.setAside())
	if fi, err := os.Lstat(b.Dir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		todo = "remove the link (rm " + b.Dir + ") once you no longer need it"
	}
	return fmt.Sprintf("--keep-backups %d neither counts nor removes the backup %s, which cannot be restored as it is: %v%s; %s", keep, b.Dir, b.Err, b.whose(), todo)
}
