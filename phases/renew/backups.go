package renew

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/phases/renewal"
)

// BackupList is the versioned schema of `certctl restore -o json|yaml`
// (no backup named: the list). Within output.certctl.io/v1 fields are only
// added, never renamed, removed or given another meaning.
type BackupList struct {
	Kind       string `json:"kind"` // "BackupList"
	APIVersion string `json:"apiVersion"`
	// Root is the folder of the backups, certctl-backups/ beside the
	// certificate folder.
	Root string `json:"root"`
	// Roots are, when the certificate folder has another name (a link
	// to it, or the folder a link resolves to), Root and the backup
	// folders beside the other names, whose backups Items lists too:
	// each run keeps its backups beside the name it was given.
	Roots []string      `json:"roots,omitempty"`
	Items []BackupEntry `json:"items"` // oldest first
}

// BackupEntry is one backup: what `certctl restore NAME` takes.
type BackupEntry struct {
	Name string `json:"name"`
	Dir  string `json:"dir"`
	// Seq, Created, CertDir, KubeconfigDir and Files are backup.json's.
	// Seq is the order the backups of Root were made in, which the list,
	// `latest` and --keep-backups go by (Created goes back with the
	// clock); absent in a backup of a certctl before it, which counts as
	// older. When Error says why the folder is not a complete backup
	// (certctl neither restores nor prunes it), Seq and CertDir are what
	// its damaged backup.json still says, absent when it says none (the
	// seq places it among the others, and a damaged newest stops
	// `latest`), and Created, KubeconfigDir and Files are absent.
	Seq           int        `json:"seq,omitempty"`
	Created       *time.Time `json:"created,omitempty"`
	CertDir       string     `json:"certDir,omitempty"`
	KubeconfigDir string     `json:"kubeconfigDir,omitempty"`
	Files         []string   `json:"files"` // where each file was, absolute
	Error         string     `json:"error,omitempty"`
}

// ListBackups is `certctl restore` without a backup's name: the backups
// beside certDir, and beside its other names (node.Names: a run given
// /etc/kubernetes/pki, a link to /data/pki, keeps them beside that name),
// read consistently (node.Read: no lock, after finishing an interrupted
// renewal), printed in f: a table of NAME, SEQ, CREATED and FILES (-o wide
// adds each backup's folder and why an incomplete one is not a backup;
// the folder is shown always when they lie beside several names), or the
// BackupList schema.
func ListBackups(ctx context.Context, certDir, kubeconfigDir string, f output.Format, out, errOut io.Writer) error {
	roots, err := backupRoots(certDir, []string{kubeconfigDir})
	if err != nil {
		return err
	}
	var backups []renewal.Backup
	err = node.Read(ctx, errOut, certDir, []string{kubeconfigDir}, func() (err error) {
		backups, err = renewal.ListBackupsIn(roots)
		return err
	})
	if err != nil {
		return err
	}
	list := backupList(roots[0], backups)
	if len(roots) > 1 {
		list.Roots = roots
	}
	return f.Print(out, list, func(w io.Writer, wide bool) error { return writeBackups(w, list, wide) })
}

// backupRoots are the backup folders beside every name of certDir
// (node.Names), the given name's first: each run keeps its backups beside
// the name it was given.
func backupRoots(certDir string, kubeconfigDirs []string) ([]string, error) {
	var roots []string
	for _, name := range node.Names(certDir, kubeconfigDirs) {
		root, err := renewal.BackupRoot(name)
		if err != nil {
			return nil, err
		}
		roots = append(roots, root)
	}
	return roots, nil
}

func backupList(root string, backups []renewal.Backup) *BackupList {
	list := &BackupList{Kind: "BackupList", APIVersion: summaryAPIVersion, Root: root, Items: []BackupEntry{}}
	for _, b := range backups {
		e := BackupEntry{Name: b.Name, Dir: b.Dir, Files: []string{}}
		if b.Err != nil {
			e.Error, e.Seq, e.CertDir = b.Err.Error(), b.DamagedSeq, b.DamagedCertDir
		} else {
			created := b.Manifest.Created.UTC()
			e.Seq, e.Created, e.CertDir, e.KubeconfigDir = b.Manifest.Seq, &created, b.Manifest.CertDir, b.Manifest.KubeconfigDir
			for _, f := range b.Manifest.Files {
				e.Files = append(e.Files, f.Path)
			}
		}
		list.Items = append(list.Items, e)
	}
	return list
}

// elsewhere reports whether a backup of list lies beside another name of
// the certificate folder than Root: the text then says where each is.
func (list *BackupList) elsewhere() bool {
	return slices.ContainsFunc(list.Items, func(e BackupEntry) bool { return filepath.Dir(e.Dir) != list.Root })
}

func writeBackups(out io.Writer, list *BackupList, wide bool) error {
	if len(list.Items) == 0 {
		roots := list.Roots
		if len(roots) == 0 {
			roots = []string{list.Root}
		}
		_, err := fmt.Fprintf(out, "No backup in %s.\n", strings.Join(roots, " nor "))
		return err
	}
	w := output.NewTable(out, wide)
	row := func(cols ...string) {
		if !wide {
			cols = cols[:4]
		}
		fmt.Fprintln(w, strings.Join(cols, "\t"))
	}
	row("NAME", "SEQ", "CREATED", "FILES", "FOLDER", "ERROR")
	var incomplete []BackupEntry
	for _, e := range list.Items {
		seq, created, files, errText := "-", "-", fmt.Sprint(len(e.Files)), "-"
		if e.Seq > 0 {
			seq = fmt.Sprint(e.Seq)
		}
		if e.Created != nil {
			created = e.Created.Format(time.RFC3339)
		}
		if e.Error != "" {
			files, errText = "INCOMPLETE", e.Error
			incomplete = append(incomplete, e)
		}
		row(e.Name, seq, created, files, e.Dir, errText)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if list.elsewhere() && !wide {
		// A column of folders would be cut to the terminal's width.
		fmt.Fprintf(out, "\nFOLDERS (beside each name of the certificate folder: %s; restore one kept beside another name with that name as --cert-dir)\n", strings.Join(list.Roots, ", "))
		for _, e := range list.Items {
			fmt.Fprintf(out, "- %s: %s\n", e.Name, e.Dir)
		}
	}
	if len(incomplete) > 0 && !wide {
		fmt.Fprintln(out, "\nINCOMPLETE (not restored nor pruned by certctl)")
		for _, e := range incomplete {
			fmt.Fprintf(out, "- %s: %s\n", e.Dir, e.Error)
		}
	}
	return nil
}

// BackupNames are the names restore takes for the backups beside certDir,
// and beside the folder it links to (FindBackupIn looks there too), for
// completion: "latest", then the readable backups, newest first. It only
// reads: no lock, no recovery.
func BackupNames(certDir string) []string {
	names := []string{"latest"}
	roots, _ := backupRoots(certDir, nil)
	backups, _ := renewal.ListBackupsIn(roots)
	for i := len(backups) - 1; i >= 0; i-- {
		if backups[i].Err == nil {
			names = append(names, backups[i].Name)
		}
	}
	return names
}
