package renewal

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/certdir"
	"github.com/certctl/certctl/phases/carotate/castage"
	"github.com/certctl/certctl/pki"
)

// Backup is one folder of BackupRoot.
type Backup struct {
	Name     string // TIMESTAMP, or TIMESTAMP-NNN
	Dir      string
	Manifest *BackupManifest // nil when Err is set
	// Err says why backup.json cannot be read: a folder that is not a
	// complete backup, which certctl neither restores nor prunes.
	Err error
	// DamagedSeq is, with Err, the seq its backup.json still says (one of
	// another version, or damaged after its seq), which places it among
	// the others (sortBackups); 0 when it says none.
	DamagedSeq int
	// DamagedCertDir is, with Err, the certificate folder its backup.json
	// still names; "" when it names none. The certificate folders of one
	// parent keep their backups side by side: a damaged backup of another
	// is not this one's to warn of, nor to refuse `latest` for.
	DamagedCertDir string
	// MaybeOf are, with Err and no DamagedCertDir, the certificate
	// folders whose backups lie beside it (setMaybeOf): it may be a
	// backup of any of them.
	MaybeOf []string
}

// otherFolder reports whether b, damaged, is known to be a backup of
// another certificate folder than abs (absolute; "" for any).
func (b Backup) otherFolder(abs string) bool {
	return b.Err != nil && abs != "" && b.DamagedCertDir != "" && !sameFolder(b.DamagedCertDir, abs)
}

// seq is the order b was made in, when known: backup.json's Seq, or
// DamagedSeq.
func (b Backup) seq() int {
	if b.Manifest != nil {
		return b.Manifest.Seq
	}
	return b.DamagedSeq
}

// certctlName is the name of a backup folder certctl made: the time of its
// run, then -002, -003 within the same second.
var certctlName = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z(-[0-9]{3})?$`)

// ListBackups returns the backups in root (see BackupRoot), oldest first by
// when they were made. A root that does not exist holds none.
func ListBackups(root string) ([]Backup, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		// A file or a loop of links where the folder belongs: said as
		// every command that writes says it, with what to do.
		if cerr := checkBackupRoot(root); cerr != nil {
			return nil, cerr
		}
		return nil, withPermissionHint(fmt.Errorf("read backup folder %s: %w", root, err))
	}
	var out []Backup
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b := Backup{Name: e.Name(), Dir: filepath.Join(root, e.Name())}
		if e.Type()&fs.ModeSymlink != 0 {
			// Listed, as what restore by name refuses (linkedBackup).
			if st, err := os.Stat(b.Dir); err != nil || !st.IsDir() {
				continue
			}
			b.Err = linkedBackup(b.Dir)
		} else if !e.IsDir() {
			continue
		} else {
			b.Manifest, b.Err = ReadBackupManifest(b.Dir)
			if b.Err != nil {
				b.DamagedSeq, b.DamagedCertDir = damagedManifest(b.Dir)
			}
		}
		out = append(out, b)
	}
	setMaybeOf(root, out)
	// Oldest first by when each was made, which for certctl's names is their
	// order; a folder the user named (a copy kept as "pre-upgrade") would
	// otherwise sort after every timestamp and be taken for the newest.
	sortBackups(out)
	return out, nil
}

// sortBackups sorts the backups of one folder oldest first: by when each
// was made (made), then the complete ones and the damaged ones whose seq
// is known (DamagedSeq), in the places they hold, by their seq, the
// backups of an older certctl (no Seq) first, by time. So a backup made
// after the clock was set back, dated before the ones made until then, is
// still the newest, also when damaged since (`restore latest` refuses to
// pass over it), and a folder that is not a complete backup (no seq to
// read) keeps the place its name's time gives it.
func sortBackups(out []Backup) {
	slices.SortStableFunc(out, func(a, b Backup) int { return a.made().Compare(b.made()) })
	var at []int
	var complete []Backup
	for i, b := range out {
		if b.Manifest != nil || b.DamagedSeq > 0 {
			at, complete = append(at, i), append(complete, b)
		}
	}
	slices.SortStableFunc(complete, func(a, b Backup) int {
		// A copy the user named (pre-upgrade) of the newest is not latest.
		return cmp.Or(cmp.Compare(a.seq(), b.seq()), a.made().Compare(b.made()),
			cmpBool(certctlName.MatchString(a.Name), certctlName.MatchString(b.Name)))
	})
	for k, i := range at {
		out[i] = complete[k]
	}
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// ListBackupsIn is ListBackups of every root, merged, oldest first: the
// backups beside each name of a certificate folder reached by two
// (/etc/kubernetes/pki, a link to /data/pki), each kept beside the name
// its run was given. Each Backup's Dir says which root holds it.
func ListBackupsIn(roots []string) ([]Backup, error) {
	var each [][]Backup
	for _, root := range roots {
		backups, err := ListBackups(root)
		if err != nil {
			return nil, err
		}
		each = append(each, backups)
	}
	// Merged by time, each root's kept in its own order (sortBackups):
	// the Seqs of two roots do not compare.
	var out []Backup
	for {
		first := -1
		for i, bs := range each {
			if len(bs) > 0 && (first < 0 || bs[0].made().Before(each[first][0].made())) {
				first = i
			}
		}
		if first < 0 {
			return out, nil
		}
		out, each[first] = append(out, each[first][0]), each[first][1:]
	}
}

// made is when b was made: backup.json's time, else its name's, else the
// zero time (a folder that is neither sorts first).
func (b Backup) made() time.Time {
	if b.Manifest != nil {
		return b.Manifest.Created
	}
	t, _ := time.Parse("20060102T150405Z", strings.SplitN(b.Name, "-", 2)[0])
	return t
}

// PruneBackups removes the oldest complete backups of the certificate
// folder certDir (in BackupRoot(certDir)) so that keep of them remain,
// and what an interrupted or failed prune left. keep <= 0 keeps every
// backup. It returns the folders it removed, and those it renamed away but
// could not remove (atomicfile.RemoveDirs), which the next prune removes
// once it can. The caller must hold certctl's lock.
func PruneBackups(certDir string, keep int) ([]string, []atomicfile.LeftDir, error) {
	removed, left, _, err := PruneBackupsAfter(certDir, keep, "")
	return removed, left, err
}

// PruneBackupsAfter is PruneBackups after the run that made the backup
// folder made: that one is kept, as the newest, whatever the time in its
// backup.json. After the clock was set back, a backup made earlier may be
// dated after it, and a prune by date alone would remove the only copy of
// the files this run replaced.
//
// It also returns, from the same listing, the backups certctl named
// (TIMESTAMP, TIMESTAMP-NNN) that it cannot read (Err: a backup.json
// damaged or missing, a folder that is a link), which a prune neither
// counts nor removes: the caller says so of each (NotPruned), else they
// pile up unseen, one per damaged run, whatever --keep-backups.
func PruneBackupsAfter(certDir string, keep int, made string) (removed []string, left []atomicfile.LeftDir, damaged []Backup, err error) {
	if keep <= 0 {
		return nil, nil, nil, nil
	}
	root, err := BackupRoot(certDir)
	if err != nil {
		return nil, nil, nil, err
	}
	abs, err := filepath.Abs(certDir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("resolve %s: %w", certDir, err)
	}
	all, err := ListBackups(root)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, b := range all {
		if b.Err != nil && certctlName.MatchString(b.Name) && !b.otherFolder(abs) {
			damaged = append(damaged, b)
		}
	}
	// Only certctl's own backups, named by their time: a folder the user
	// named (a copy kept as "pre-upgrade") is theirs to keep, and does not
	// count among the newest. And only this folder's: the certificate
	// folders of one parent (/srv/k8s/a/pki and /srv/k8s/a/pki2) keep their
	// backups side by side, and a prune of one removed the other's.
	// Nor, while a CA rotation is in progress, its stages' backups:
	// reissue's holds the other copy of the old CA key, which --abort
	// signs with (and `certctl ca status` points to), and each holds
	// the record a damaged one is written again from.
	rotating := rotationInProgress(certDir)
	complete := slices.DeleteFunc(all, func(b Backup) bool {
		return b.Err != nil || !certctlName.MatchString(b.Name) || !sameFolder(b.Manifest.CertDir, abs) ||
			rotating && b.Manifest.MadeBy != ""
	})
	if i := slices.IndexFunc(complete, func(b Backup) bool { return made != "" && b.Dir == filepath.Clean(made) }); i >= 0 {
		complete = append(slices.Delete(complete, i, i+1), Backup{Dir: made})
	}
	var names []string
	for _, b := range complete[:max(0, len(complete)-keep)] {
		names = append(names, b.Name)
	}
	removed, left, err = atomicfile.RemoveDirs(root, names, "", "backup")
	return removed, left, damaged, err
}

// rotationInProgress reports whether a CA rotation (certctl ca rotate)
// is in progress in certDir: a record of one says stage trust or
// reissue, or cannot be read, and so may be one.
func rotationInProgress(certDir string) bool {
	entries, _ := os.ReadDir(certDir)
	return slices.ContainsFunc(entries, func(e fs.DirEntry) bool {
		if !strings.HasPrefix(e.Name(), castage.RecordPrefix) || filepath.Ext(e.Name()) != ".json" {
			return false
		}
		rec, err := castage.ReadRecord(filepath.Join(certDir, e.Name()))
		return err != nil || rec.Active()
	})
}

// sameFolder reports whether the certificate folder a backup was taken of
// is dir (absolute), by name or as the same folder under another name.
func sameFolder(backupOf, dir string) bool {
	return backupOf == dir || pki.SameFile(backupOf, dir)
}

// checkBackupRoot refuses the backup folder root when other users may
// write it (certdir.CheckPrivate), or, when it is a link to another disk,
// a folder above the one it leads to (certdir.CheckLinkedParents):
// restore installs what is found there, as root, and so refuses it; a
// renewal that saved its backup there would leave one that restore
// refuses.
func checkBackupRoot(root string) error {
	return certdir.CheckPrivateLinkable(root, "backup folder", "a backup of their own that `certctl restore` would install into the certificate folders")
}

// linkedBackup refuses a backup folder that is a symbolic link, whether
// listed, named or given by its path: certctl makes real folders, and a
// link leads to files wherever it points, whose folders the checks of the
// backup folder (checkBackupRoot, checkBackupPrivate) do not cover: one
// another user controls, renamed away and replaced after the check. The
// backup folder itself (certctl-backups) may be a link, to a bigger disk:
// only root can put one beside the certificate folder, and
// checkBackupRoot checks the folder it leads to (TestLinkedBackupRoot).
func linkedBackup(dir string) error {
	dest, err := os.Readlink(filepath.Clean(dir))
	if err != nil {
		return nil
	}
	if !filepath.IsAbs(dest) {
		dest = filepath.Join(filepath.Dir(filepath.Clean(dir)), dest)
	}
	return fmt.Errorf("backup %s is a symbolic link to %s, not a folder certctl made: certctl restores no backup through a link; check what %s holds and, if you trust it, restore it by its path (certctl restore %s)", dir, dest, dest, dest)
}

// FindBackup resolves what the user named: "latest" (the newest complete
// backup in root), a backup's name in root, or a folder's path.
func FindBackup(root, name string) (string, error) {
	return FindBackupIn([]string{root}, "", name)
}

// FindBackupIn is FindBackup over the backup folders beside every name
// of a certificate folder reached by two (ListBackupsIn): "latest" is the
// newest complete backup of them all, refused when a backup certctl named
// after it is damaged (the last run's), a name the first root's that holds
// it, the given name's root first. With certDir, "latest" is the newest
// of that certificate folder's backups: the folders of one parent
// (/srv/k8s/pki and /srv/k8s/pki2) keep theirs side by side, as for
// PruneBackups. A root that other users may write is refused
// (certdir.CheckPrivate): the backup found is installed as root.
func FindBackupIn(roots []string, certDir, name string) (string, error) {
	dir, _, err := FindBackupWarn(roots, certDir, name)
	return dir, err
}

// FindBackupWarn is FindBackupIn, with what "latest" says of the backups
// certctl named that cannot be read and whose place among the others is
// not known (no seq in their backup.json) and that it passed over: one
// line each, naming it and the backup taken. Dated before that one, each
// is older unless the clock was set back since; then it may be the last
// run's, and `latest` undoes the run before. Refusing for it would block
// every restore while an old damaged backup is kept; the warning says how
// to keep it without being told again (setAside).
func FindBackupWarn(roots []string, certDir, name string) (string, []string, error) {
	where := strings.Join(roots, ", ")
	for _, root := range roots {
		if err := checkBackupRoot(root); err != nil {
			return "", nil, err
		}
	}
	if name != "latest" {
		dir, err := findNamed(roots, where, name)
		return dir, nil, err
	}
	// One listing (every backup.json read once) for the backup taken and
	// for what it passed over.
	all, err := ListBackupsIn(roots)
	if err != nil {
		return "", nil, err
	}
	abs := ""
	if certDir != "" {
		abs, _ = filepath.Abs(certDir)
	}
	i, err := latestIn(all, where, certDir, abs)
	if err != nil {
		return "", nil, err
	}
	taken := all[i]
	var warnings []string
	for _, b := range all[:i] {
		if b.Err == nil || b.DamagedSeq > 0 || b.otherFolder(abs) || !certctlName.MatchString(b.Name) || filepath.Dir(b.Dir) != filepath.Dir(taken.Dir) {
			continue
		}
		warnings = append(warnings, fmt.Sprintf("`latest` took %s (seq %d, made %s) and passed over %s, which cannot be restored as it is (%v) and says no seq: it is older unless the clock was set back since %s was made%s; if it is the last run's backup, repair its %s and restore it by name (certctl restore %s); if not, %s",
			taken.Dir, taken.Manifest.Seq, taken.Manifest.Created.Format(time.RFC3339), b.Dir, b.Err, taken.Name, b.whose(), BackupManifestName, b.Name, b.setAside()))
	}
	return taken.Dir, warnings, nil
}

// latestIn is the index in all (ListBackupsIn of the roots where names)
// of the backup "latest" restores for certDir (abs: its absolute path, ""
// for any folder): the newest complete one, refused when a backup certctl
// named after it is damaged.
func latestIn(all []Backup, where, certDir, abs string) (int, error) {
	var damaged, others, newer []string
	for i := len(all) - 1; i >= 0; i-- {
		if certDir != "" && all[i].otherFolder(abs) {
			continue
		}
		if all[i].Err == nil && certDir != "" && !sameFolder(all[i].Manifest.CertDir, abs) {
			others = append(others, fmt.Sprintf("%s (of %s)", all[i].Name, all[i].Manifest.CertDir))
			continue
		}
		if all[i].Err == nil && len(newer) > 0 {
			// Passed over, the last run's backup would go unrestored
			// and the run before undone instead, said by its folder
			// alone.
			return 0, fmt.Errorf("the newest backup cannot be restored as it is: %s; `latest` would restore the one before it, %s, which does not undo the last run: restore that one by name if that is what you want (certctl restore %s), or repair the newest's %s and restore it by name", strings.Join(newer, "; "), all[i].Dir, all[i].Name, BackupManifestName)
		}
		if all[i].Err == nil {
			return i, nil
		}
		damaged = append(damaged, fmt.Sprintf("%s (%v)", all[i].Dir, all[i].Err))
		if certctlName.MatchString(all[i].Name) {
			newer = append(newer, fmt.Sprintf("%s (%v%s)", all[i].Dir, all[i].Err, all[i].whose()))
		}
	}
	if len(damaged) > 0 {
		// A backup whose manifest is damaged is not "no backup": its
		// files may be intact, and the user must know they exist.
		return 0, fmt.Errorf("no complete backup in %s to restore: %d backup(s) cannot be restored as they are: %s; restore one by name after repairing its backup.json, or copy its files back by hand (docs/cron.md, \"Backups and restore\")", where, len(damaged), strings.Join(damaged, "; "))
	}
	if len(others) > 0 {
		return 0, fmt.Errorf("no backup of %s in %s to restore: the %d there are of other certificate folders (%s); restore one of those by name with that folder's --cert-dir", certDir, where, len(others), strings.Join(others, ", "))
	}
	return 0, fmt.Errorf("no backup in %s to restore", where)
}

// findNamed is the backup called name (not "latest"): a folder's path, or
// a backup's name in the first of roots (where names them) that holds it.
func findNamed(roots []string, where, name string) (string, error) {
	if strings.ContainsRune(name, filepath.Separator) {
		if st, err := os.Stat(name); err != nil || !st.IsDir() {
			return "", fmt.Errorf("no backup %s: `certctl restore` without an argument lists the backups in %s", name, where)
		}
		return name, nil
	}
	for _, root := range roots {
		dir := filepath.Join(root, name)
		st, err := os.Stat(dir)
		if err == nil && st.IsDir() {
			return dir, nil
		}
		if errors.Is(err, fs.ErrPermission) { // there, maybe, but not for this user
			return "", withPermissionHint(fmt.Errorf("read backup %s: %w", dir, err))
		}
	}
	return "", fmt.Errorf("no backup %s: `certctl restore` without an argument lists the backups in %s", filepath.Join(roots[0], name), where)
}
