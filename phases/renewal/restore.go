package renewal

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/certdir"
	"github.com/certctl/certctl/internal/filekind"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// RestoreResult is what Restore did.
type RestoreResult struct {
	Restored  []string // files written back
	Unchanged []string // files that already held the backup's content
	// BackupDir holds the files the restore replaced; "" with NoBackup or
	// when nothing was restored.
	BackupDir string
	// Restarts lists the components that read the restored files only
	// when they start, in componentOrder: as after a renewal, they use the
	// replaced files until they are restarted.
	Restarts []Restart
	// Warnings say which restored files disagree with the CA files they
	// will sit beside without being refused: a backup taken before a CA
	// rotation's stage, restored in the middle of the rotation.
	Warnings []string
	// Unwritable, with DryRun, is what the real restore's check of the
	// files it would write refuses (txn.Check: a read-only file system, an
	// immutable file), as Result.Unwritable: the plan is set all the same.
	Unwritable error
}

// Restore writes the files of the backup in dir back where backup.json
// says they were, with their mode and owner, in one transaction (with a
// backup of the files it replaces), so that a restore killed at any
// instant leaves all old files or all restored ones. Before anything is
// written it checks every file against its SHA-256 in backup.json, that
// every path is in the certificate or kubeconfig folder the backup was
// taken of, which must be o's, and that every certificate of the folder
// will match its key. The caller must hold certctl's lock and have run
// txn.RecoverIn.
//
// Of o it uses CertDir, KubeconfigDir and Rand (the transaction's id), which
// are required, and Now, NoBackup (no backup of the files the restore
// replaces, which would let the restore itself be undone), DryRun (check
// everything and return what would be restored; nothing is written),
// Extra and ExtraFor (written with the restored files, and Extra backed
// up, as Renew does; not when nothing is restored).
func Restore(dir string, o Options) (*RestoreResult, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := linkedBackup(dir); err != nil {
		return nil, fmt.Errorf("%w; nothing restored", err)
	}
	if err := checkBackupPrivate(dir, nil); err != nil {
		return nil, err
	}
	m, err := ReadBackupManifest(dir)
	if err != nil {
		return nil, err
	}
	if err := checkBackupPrivate(dir, m); err != nil {
		return nil, err
	}
	if o.CertDir, err = filepath.Abs(o.CertDir); err != nil {
		return nil, err
	}
	if o.KubeconfigDir, err = filepath.Abs(o.KubeconfigDir); err != nil {
		return nil, err
	}
	if m.Undo != "" {
		return nil, fmt.Errorf("backup %s was made by %s: restoring its files would leave that half undone; %s (nothing was restored)", dir, m.MadeBy, m.Undo)
	}
	if m.CertDir != o.CertDir && m.KubeconfigDir == o.KubeconfigDir && pki.SameFile(m.CertDir, o.CertDir) {
		// The same folder under another name (/etc/kubernetes/pki, a link
		// to /data/pki): its files are named by the backup's name, which
		// this run's transaction and lock do not cover.
		return nil, fmt.Errorf("backup %s was taken of --cert-dir %s, the folder %s under another name: run the restore with --cert-dir %s", dir, m.CertDir, o.CertDir, m.CertDir)
	}
	if m.CertDir != o.CertDir || m.KubeconfigDir != o.KubeconfigDir {
		return nil, fmt.Errorf("backup %s was taken of --cert-dir %s and --kubeconfig-dir %s, not %s and %s: pass those", dir, m.CertDir, m.KubeconfigDir, o.CertDir, o.KubeconfigDir)
	}
	files, err := readBackupFiles(dir, m)
	if err != nil {
		return nil, err
	}
	res := &RestoreResult{}
	saved := map[string]fs.FileMode{} // of the files holding a key that the backup saved readable by others
	for i, f := range files {
		if holdsKey(f.Data) && f.Mode&0o077 != 0 {
			// A renewal tightened it, and its backup saved the mode it had.
			saved[f.Target] = f.Mode.Perm()
			files[i] = private(f)
		}
	}
	var write []txn.File
	var replaced []*oldFile
	for _, f := range files {
		cur, err := readOld(f.Target)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if cur != nil && bytes.Equal(cur.data, f.Data) && cur.mode == f.Mode {
			res.Unchanged = append(res.Unchanged, f.Target)
			continue
		}
		if cur != nil && !o.NoBackup {
			replaced = append(replaced, cur)
		}
		write = append(write, f)
		res.Restored = append(res.Restored, f.Target)
		if mode, ok := saved[f.Target]; ok {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s is restored readable by its owner only (%04o), not %04o as the backup saved it: it holds a private key", f.Target, f.Mode.Perm(), mode))
		}
	}
	if err := checkPairs(o.CertDir, files, m.RestoreOf); err != nil {
		return nil, fmt.Errorf("restore %s: %w; nothing restored", dir, err)
	}
	signed, err := checkSigned(o.CertDir, o.KubeconfigDir, files, write, o.Now())
	if err != nil {
		return nil, fmt.Errorf("restore %s: %w; nothing restored", dir, err)
	}
	res.Warnings = append(res.Warnings, signed...)
	if len(write) == 0 {
		return res, nil
	}
	res.Restarts = restartsOfFiles(o.CertDir, o.KubeconfigDir, res.Restored)
	if err := o.addExtraFor(res.Restored); err != nil {
		return nil, err
	}
	if o.DryRun {
		res.Unwritable = txn.Check(slices.Concat(res.Restored, txn.Targets(o.Extra)))
		return res, nil
	}
	if !o.NoBackup {
		extra, err := o.oldExtra()
		if err != nil {
			return nil, err
		}
		replaced = append(replaced, extra...)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if res.BackupDir, err = install(o.CertDir, o.KubeconfigDir, txn.KindRestore, o.Now().UTC(), o.Rand, replaced, slices.Concat(write, o.Extra), BackupNote{RestoreOf: abs}); err != nil {
		return nil, err
	}
	return res, nil
}

// checkBackupPrivate refuses the backup folder dir, its backup.json
// and, with m, the folders of dir that hold its files when another user
// may write them (certdir.CheckPrivate): a backup copied from another
// node with its owner kept (rsync -a), or chmodded, in a certctl-backups
// that others may enter (0755), whose backup.json and files they could
// rewrite, and the restore would install as root.
func checkBackupPrivate(dir string, m *BackupManifest) error {
	planted := "a backup.json and files of their own that `certctl restore` would install into the certificate folders"
	if m == nil {
		if err := certdir.CheckPrivate(dir, "backup folder", planted); err != nil {
			return err
		}
		p := filepath.Join(dir, BackupManifestName)
		st, err := os.Stat(p)
		if err != nil {
			return nil // ReadBackupManifest says why
		}
		owner, _ := filekind.Owner(st)
		if perm := st.Mode().Perm(); perm&0o022 != 0 {
			return fmt.Errorf("backup manifest %s is mode %04o, writable by other users, who could make it list %s: check it, run chmod 600 %s, then run certctl again; nothing restored", p, perm, "files of their own", p)
		}
		if owner > 0 && owner != os.Geteuid() {
			return fmt.Errorf("backup manifest %s is owned by user %d, who could make it list files of their own, which the restore would install: check it, run chown root %s, then run certctl again; nothing restored", p, owner, p)
		}
		return nil
	}
	var folders []string
	for _, f := range m.Files {
		for d := filepath.Dir(filepath.Join(dir, f.Backup)); inside(d, dir) && !slices.Contains(folders, d); d = filepath.Dir(d) {
			folders = append(folders, d)
		}
	}
	slices.Sort(folders)
	for _, d := range folders {
		if err := certdir.CheckPrivate(d, "backup folder", planted); err != nil {
			return err
		}
	}
	return nil
}

// restartsOfFiles lists the components that read files (a pair's
// certificate or key, a kubeconfig) only when they start, by the names of
// the certificates, as Result.Restarts does for a renewal.
func restartsOfFiles(certDir, kubeconfigDir string, files []string) []Restart {
	inv := pki.Kubeadm()
	ts := append(Targets(inv, false), TargetOf(inv, pki.KubeletKubeconfig))
	return RestartsOf(func(yield func(string, []string) bool) {
		for _, t := range ts {
			own := []string{t.File(certDir, kubeconfigDir)}
			if !t.Kubeconfig {
				own = append(own, pki.Store{Dir: certDir}.KeyPath(t.BaseName))
			}
			if slices.ContainsFunc(own, func(f string) bool { return slices.Contains(files, f) }) && !yield(t.Name, t.Restart) {
				return
			}
		}
	})
}

// readBackupFiles reads and checks every file of a backup.
func readBackupFiles(dir string, m *BackupManifest) ([]txn.File, error) {
	var out []txn.File
	for _, f := range m.Files {
		if !filepath.IsLocal(f.Backup) {
			return nil, fmt.Errorf("backup %s: file %q is outside the backup folder", dir, f.Backup)
		}
		if !inside(f.Path, m.CertDir) && filepath.Dir(f.Path) != m.KubeconfigDir {
			return nil, fmt.Errorf("backup %s: %s is in neither %s nor %s: certctl restores only those", dir, f.Path, m.CertDir, m.KubeconfigDir)
		}
		mode, err := strconv.ParseUint(f.Mode, 8, 32)
		if err != nil || mode > 0o777 {
			return nil, fmt.Errorf("backup %s: invalid mode %q of %s", dir, f.Mode, f.Path)
		}
		p := filepath.Join(dir, f.Backup)
		data, err := pki.ReadFile(p)
		sum := sha256.Sum256(data)
		if dest, lerr := os.Readlink(p); lerr == nil && (err != nil || hex.EncodeToString(sum[:]) != f.SHA256) {
			// What an older certctl saved of a symlinked certificate:
			// the link, whose target renewal left as it was or which
			// points nowhere from the backup folder.
			return nil, fmt.Errorf("backup file %s is a symbolic link to %s, not a copy of the old file, and does not lead to its content: nothing restored; restore another backup, or the file by hand", p, dest)
		}
		if err != nil {
			return nil, damagedBackupFile(dir, p, err)
		}
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			return nil, fmt.Errorf("backup file %s does not match its SHA-256 in %s (damaged or edited): nothing restored", p, BackupManifestName)
		}
		out = append(out, txn.File{Target: f.Path, Data: data, Mode: fs.FileMode(mode), UID: f.UID, GID: f.GID})
	}
	return out, nil
}

// checkSigned checks that every certificate the restore writes (a leaf of
// the certificate folder, or a kubeconfig's client certificate) has not
// expired, and is signed by its CA as the CA file will be afterwards: a
// renewal's backup holds the certificates that were about to expire, and a
// backup taken before the CAs changed leaves that every client trusting the
// CA files rejects.
// A CA file that is missing or cannot be read is left to check-expiration.
//
// It also returns warnings for what it lets through but a CA rotation in
// progress did not leave so (a CA file holding the CA that signs first,
// then the other one): a leaf signed by a CA its CA file lists after the
// first, which the rotation's finish refuses, or a kubeconfig whose CA data
// lacks a certificate of ca.crt, whose clients reject the API server once
// it serves a certificate of the missing CA.
func checkSigned(certDir, kubeconfigDir string, files, write []txn.File, now time.Time) (warnings []string, err error) {
	content := contentAfter(files)
	inv := pki.Kubeadm()
	ts := append(Targets(inv, false), TargetOf(inv, pki.KubeletKubeconfig))
	for _, f := range write {
		i := slices.IndexFunc(ts, func(t Target) bool { return t.File(certDir, kubeconfigDir) == f.Target })
		if i < 0 {
			continue
		}
		t := ts[i]
		caPath := pki.Store{Dir: certDir}.CertPath(t.CABaseName)
		var cas []*x509.Certificate // nil when the CA file cannot be read
		if caData, err := content(caPath); err == nil {
			if cas, err = pki.ParseCerts(caData); err != nil {
				cas = nil
			}
		}
		rotating := len(cas) > 1
		var cert *x509.Certificate
		var inter []*x509.Certificate
		if t.Kubeconfig {
			cfg, err := clientcmd.Load(f.Data)
			if err != nil {
				continue // not certctl's to judge: the file was so when saved
			}
			if trusted, err := kubeconfig.CACerts(cfg); err == nil && rotating {
				if i := slices.IndexFunc(cas, func(ca *x509.Certificate) bool { return !slices.ContainsFunc(trusted, ca.Equal) }); i >= 0 {
					warnings = append(warnings, fmt.Sprintf("%s trusts only part of %s (the backup was taken before a CA rotation changed it): its clients will reject the API server once it serves a certificate of the CA it lacks (sha256 %x); renew it with `certctl renew %s` (`certctl ca status` says what the rotation needs)", f.Target, caPath, sha256.Sum256(cas[i].Raw), t.Name))
				}
			}
			chain, _, err := kubeconfig.ClientChain(cfg)
			if err != nil {
				continue
			}
			cert, inter = chain[0], chain[1:]
		} else {
			certs, err := pki.ParseCerts(f.Data)
			if err != nil {
				continue
			}
			cert, inter = certs[0], certs[1:]
		}
		if now.After(cert.NotAfter) {
			return nil, fmt.Errorf("%s expired on %s: every client would reject it; restore a newer backup, or renew it with `certctl renew %s`", f.Target, cert.NotAfter.UTC().Format(time.RFC3339), t.Name)
		}
		if cas == nil {
			continue
		}
		if !slices.ContainsFunc(cas, func(ca *x509.Certificate) bool { return pki.VerifySignedBy(cert, inter, ca, now) == nil }) {
			return nil, fmt.Errorf("%s is not signed by the CA %s (the backup was taken before that CA changed): every client that trusts the CA would reject it; restore a backup taken since, or renew with `certctl renew %s`", f.Target, caPath, t.Name)
		}
		if rotating && !t.Kubeconfig && pki.VerifySignedBy(cert, inter, cas[0], now) != nil {
			warnings = append(warnings, fmt.Sprintf("%s is signed by a CA that %s lists after the one that signs now (the backup was taken before a CA rotation's stage): the rotation cannot finish while it is there; renew it with `certctl renew %s` (`certctl ca status` says what the rotation needs)", f.Target, caPath, t.Name))
		}
	}
	return warnings, nil
}

// contentAfter returns what a path holds once the restore has written
// files: their data, else the file on disk.
func contentAfter(files []txn.File) func(string) ([]byte, error) {
	after := make(map[string][]byte, len(files))
	for _, f := range files {
		after[f.Target] = f.Data
	}
	return func(p string) ([]byte, error) {
		if d, ok := after[p]; ok {
			return d, nil
		}
		return pki.ReadFile(p)
	}
}

// damagedBackupFile is the error of a backup file that cannot be read: a
// permission problem says how to fix it; a file that is missing, or is no
// longer a regular file, cannot be made again, so it points to another
// backup.
func damagedBackupFile(dir, p string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("read backup file %s: %w: %s; nothing restored", p, err, fixPermissions)
	}
	why := "cannot be read (" + err.Error() + ")"
	if st, lerr := os.Lstat(p); errors.Is(err, pki.ErrNotRegular) && lerr == nil {
		why = "is a " + pki.FileKind(st.Mode()) + ", not the saved file"
	} else if errors.Is(err, fs.ErrNotExist) {
		why = "does not exist"
	}
	return fmt.Errorf("backup file %s %s: the backup %s is damaged; nothing restored: restore another backup (certctl restore lists them), or the file by hand", p, why, dir)
}

func inside(path, dir string) bool {
	return strings.HasPrefix(filepath.Clean(path), filepath.Clean(dir)+string(filepath.Separator))
}

// checkPairs checks that every certificate of the certificate folder that
// the restore writes, or whose key it writes, matches its key afterwards:
// a backup made with --reuse-key holds certificates only, and restoring
// one after a later renewal made new keys would break the pairs. So does
// the backup a restore made (restoreOf: of the backup it wrote back) when
// that restore wrote a file that was missing, which it could not save:
// undoing the restore would pair the old file with the one it wrote.
func checkPairs(certDir string, files []txn.File, restoreOf string) error {
	content := contentAfter(files)
	seen := map[string]bool{}
	for _, f := range files {
		ext := filepath.Ext(f.Target)
		if !inside(f.Target, certDir) || ext != ".crt" && ext != ".key" {
			continue
		}
		base := strings.TrimSuffix(f.Target, ext)
		if seen[base] {
			continue
		}
		seen[base] = true
		certData, cerr := content(base + ".crt")
		keyData, kerr := content(base + ".key")
		if errors.Is(cerr, fs.ErrNotExist) || errors.Is(kerr, fs.ErrNotExist) {
			continue // a CA's certificate alone, or sa.pub's kind: nothing to pair
		}
		if cerr != nil || kerr != nil {
			return errors.Join(cerr, kerr)
		}
		certs, err := pki.ParseCerts(certData)
		if err != nil {
			return fmt.Errorf("parse %s.crt: %w", base, err)
		}
		key, err := pki.ParsePrivateKey(keyData)
		if err != nil {
			return fmt.Errorf("parse %s.key: %w", base, err)
		}
		if pki.KeyMatches(certs[0], key) != nil {
			has := func(p string) bool { return slices.ContainsFunc(files, func(f txn.File) bool { return f.Target == p }) }
			missing := base + ".key"
			if !has(base + ".crt") {
				missing = base + ".crt"
			}
			if restoreOf != "" && has(base+".crt") != has(base+".key") {
				return fmt.Errorf("%s.crt would not match %s.key: this backup holds what the restore of %s replaced, when %s did not exist (that restore wrote it, so it could not be saved): to undo that restore, move %s away (mv %s %s.restored), then restore this backup again", base, base, restoreOf, missing, missing, missing, missing)
			}
			return fmt.Errorf("%s.crt would not match %s.key (a backup of certificates only, from --reuse-key, taken before the keys changed): restore an older backup that holds both", base, base)
		}
	}
	return nil
}

// holdsKey reports whether data, a file of a backup, holds a private key:
// a key file's PEM block, or a kubeconfig's embedded client key, in
// whichever form the file was saved (YAML, or the JSON that kubeconfigs may
// be too, where no "client-key-data:" is spelt).
func holdsKey(data []byte) bool {
	if bytes.Contains(data, []byte("PRIVATE KEY-----")) {
		return true
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return false
	}
	for _, u := range cfg.AuthInfos {
		if len(u.ClientKeyData) > 0 {
			return true
		}
	}
	return false
}

// RestoreInEffect returns, when dir is the backup a restore made of the
// files it replaced (BackupNote.RestoreOf), the backup that restore wrote
// back, if its files are still in place: restoring dir would undo that
// restore. "" otherwise, and for a backup that cannot be read or checked.
// `certctl restore latest` run again, after an interruption or a dropped
// session, took that restore's own backup for the latest and undid it.
func RestoreInEffect(dir string, o Options) string {
	m, err := ReadBackupManifest(dir)
	if err != nil || m.RestoreOf == "" {
		return ""
	}
	o.DryRun, o.Extra, o.ExtraFor = true, nil, nil
	res, err := Restore(m.RestoreOf, o)
	if err != nil || len(res.Restored) > 0 {
		return ""
	}
	return m.RestoreOf
}
