package copycerts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/pki"
)

// Download reads the kube-system/kubeadm-certs Secret, decrypts it with
// o.Key and writes its files into o.CertDir as `kubeadm join
// --control-plane` does, but all at once: every entry is decrypted and
// checked (each key matches its certificate) before the first file is
// written, then the missing files are written in one transaction under
// certctl's lock (internal/txn), keys 0600, certificates 0644. An entry
// that is empty (a CA key an external CA keeps) writes nothing.
//
// A file that is already there is kept when it is byte-identical, so a
// second download changes nothing; a different one (another CA, another
// service-account key) is refused and nothing is written at all: this
// node's folder belongs to another cluster, or the Secret does. A Secret
// whose TTL is over, not yet deleted, is refused (checkNotExpired).
func Download(ctx context.Context, client kubernetes.Interface, o Options) (retErr error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	secret, err := readSecret(ctx, client)
	var unanswered *noSecretAnswer
	if errors.As(err, &unanswered) {
		return err
	}
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("get secret %s/%s: not found: it is deleted %v after an upload; run `certctl certs upload --certificate-key KEY` (or `kubeadm init phase upload-certs --upload-certs`) on a control-plane node, then download again", Namespace, SecretName, TokenTTL)
	}
	if err != nil {
		return fmt.Errorf("get secret %s/%s: %w", Namespace, SecretName, kubeclient.Unanswered(err, "; nothing was changed"))
	}
	if err := checkNotExpired(ctx, client, secret, now()); err != nil {
		return err
	}
	files, err := decryptAll(secret.Data, o.Key)
	if err != nil {
		return err
	}
	ext := o.ExternalEtcd
	_, external := files[externalEtcdCA]
	switch {
	case external && ext == nil:
		return fmt.Errorf("the secret %s/%s holds an external etcd's client files: pass --config with the cluster's ClusterConfiguration, whose etcd.external caFile, certFile and keyFile say where they go", Namespace, SecretName)
	case !external && ext != nil:
		return fmt.Errorf("the secret %s/%s holds the etcd CA of a stacked etcd while the configuration has etcd.external: use the cluster's ClusterConfiguration", Namespace, SecretName)
	}
	es := entries(o.CertDir, ext)
	if held, lacked := have(es, files); len(lacked) > 0 {
		return fmt.Errorf("the secret %s/%s lacks %s (it holds %s): upload again from a control-plane node", Namespace, SecretName, strings.Join(lacked, ", "), strings.Join(held, ", "))
	}
	where := Namespace + "/" + SecretName
	if empty := emptyRequired(es, files); len(empty) > 0 {
		return fmt.Errorf("the secret %s holds %s empty: only a CA's key may be empty (an external CA keeps it), and a joining node needs these files; nothing was written; upload again from a control-plane node that has them", where, strings.Join(empty, ", "))
	}
	if err := check(es, files, where, "upload again from a control-plane node (certctl certs upload, or kubeadm init phase upload-certs --upload-certs); nothing was written"); err != nil {
		return err
	}
	warnCAs(o.ErrOut, es, files, func(e entry) string { return fmt.Sprintf("%s in secret %s (for %s)", e.key, where, e.path) }, now())
	inSecret := func(e entry) string { return fmt.Sprintf("%s of secret %s", e.key, where) }
	if err := checkClusterCA(ctx, client, o.ServerCA, o.Out, "[download-certs]", es, files, inSecret, "the Secret was uploaded from another cluster's folder, or a stale copy: upload again on a control-plane node of this cluster (certctl certs upload, or kubeadm init phase upload-certs --upload-certs), or pass --kubeconfig of the cluster the Secret came from; nothing was written"); err != nil {
		return err
	}

	if err := checkPlaces(o.CertDir, o.KubeconfigDir, es); err != nil {
		return err
	}
	// Another cluster's kubeconfig files, before the certificate folder
	// and its lock are made: the refusal leaves the node as it was, and
	// names the other cluster's leaves there too (read again under the lock).
	if confs := foreignKubeconfigs(o.KubeconfigDir, files); len(confs) > 0 {
		leaves, remove, err := foreignLeaves(o.CertDir, ext != nil, files, now())
		if err != nil {
			return err
		}
		return foreignFiles(o.CertDir, where, nil, leaves, remove, confs)
	}

	fmt.Fprintf(o.Out, "[download-certs] Saving the certificates to the folder: %q\n", o.CertDir)
	if !o.DryRun {
		// The folders are not made here but by the transaction, after
		// every check: a refusal (the lock held, a signal) leaves none.
		// The etcd.external files may lie outside the certificate
		// folder: its recovery must be able to finish their writes too.
		// Its parent holds the lock and the transaction: made first on a
		// node that has none yet (as kubeadm makes /etc/kubernetes), and
		// removed again when the download does not commit.
		made, err := makeParent(o.CertDir)
		if err != nil {
			return err
		}
		defer func() {
			if retErr != nil {
				unmakeParent(o.CertDir, made)
			}
		}()
		release, err := node.LockWriting(ctx, o.ErrOut, o.CertDir, o.LockTimeout, externalFolders(es), kubeconfigDirs(o.KubeconfigDir)...)
		if err != nil {
			return err
		}
		defer release()
	}
	var write []txn.File
	var conflicts, tighten []string
	for _, e := range es {
		data := files[e.key]
		if len(data) == 0 {
			if err := strayKey(e, files, where); err != nil {
				return err
			}
			fmt.Fprintf(o.Out, "[download-certs] Not saving %q: it is empty in the Secret (external CA)\n", e.key)
			continue
		}
		if e.path == "" {
			return fmt.Errorf("the secret %s holds %s while the configuration's etcd.external has no file for it: use the cluster's ClusterConfiguration", where, e.key)
		}
		old, err := pki.ReadFile(e.path)
		switch {
		case err == nil && bytes.Equal(old, data):
			if loose, mode := looseKey(e); loose {
				// A careful SRE keeps the file (it is the cluster's) and
				// makes it readable by its owner only, as the written
				// keys are: chmod 600, after every check passed.
				tighten = append(tighten, e.path)
				fmt.Fprintf(o.Out, "[download-certs] Keeping %s: identical, but mode %04o lets other users read the private key: it is made 0600\n", e.path, mode)
				continue
			}
			fmt.Fprintf(o.Out, "[download-certs] Keeping %s: identical\n", e.path)
			continue
		case err == nil && sameContent(e, old, data):
			// The same certificate or key in another encoding (a key
			// rewritten by openssl as PKCS#8, a certificate without its
			// last newline): the cluster's, not another cluster's.
			fmt.Fprintf(o.Out, "[download-certs] Keeping %s: the same %s as the cluster's, in another encoding\n", e.path, e.noun())
			if loose, mode := looseKey(e); loose {
				tighten = append(tighten, e.path)
				fmt.Fprintf(o.Out, "[download-certs] %s: mode %04o lets other users read the private key: it is made 0600\n", e.path, mode)
			}
			continue
		case err == nil:
			conflicts = append(conflicts, e.path)
			continue
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("read %s: %w", e.path, err)
		}
		mode := pki.CertMode
		if e.kind == kindKey || e.kind == kindPublic {
			mode = pki.KeyMode // sa.pub too, as kubeadm init writes it
		}
		write = append(write, txn.File{Target: absPath(e.path), Data: data, Mode: mode, UID: -1, GID: -1})
	}
	leaves, remove, err := foreignLeaves(o.CertDir, ext != nil, files, now())
	if err != nil {
		return err
	}
	if err := rotating(o.CertDir, es, files, conflicts, where); err != nil {
		return err
	}
	if len(conflicts) > 0 || len(leaves) > 0 {
		return foreignFiles(o.CertDir, where, conflicts, leaves, remove, nil)
	}
	if o.DryRun {
		for _, p := range tighten {
			fmt.Fprintf(o.Out, "[dry-run] would make %s mode 0600\n", p)
		}
		for _, f := range write {
			fmt.Fprintf(o.Out, "[dry-run] would write %s\n", f.Target)
		}
		if len(write) == 0 {
			fmt.Fprintf(o.Out, "[download-certs] Every file is there already\n")
		}
		return nil
	}
	// A signal that came once the lock was taken (taken at once when it
	// is free, whatever ctx says) stops the download before its commit.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("download into %s: %w; nothing was written", o.CertDir, err)
	}
	return install(o, write, tighten, now())
}

// install writes files in one transaction, which creates the folders they
// need (and removes them again when it is refused or discarded), then
// makes those folders pki.DirMode less the umask, as kubeadm's, and the
// kept keys of tighten 0600: no mode changes before the transaction
// committed, so a refusal leaves every file and folder as it was. A kill
// between the commit and the chmods leaves folders 0700
// (txn.TargetDirMode) and a loose key loose: no half-written file.
func install(o Options, write []txn.File, tighten []string, now time.Time) error {
	made, err := missingFolders(txn.Targets(write))
	if err != nil {
		return err
	}
	if len(write) > 0 {
		if err := txn.WriteAllKind(o.CertDir, txn.KindDownload, now, o.Rand, write); err != nil {
			return err
		}
	}
	mode := pki.DirMode &^ umask() // as os.MkdirAll(pki.DirMode) would
	for _, d := range made {
		if err := os.Chmod(d, mode); err != nil {
			return fmt.Errorf("make folder %s mode %04o: %w: the files were written; run chmod %o %s", d, mode, err, mode, d)
		}
	}
	for _, p := range tighten {
		if err := os.Chmod(p, pki.KeyMode); err != nil {
			return fmt.Errorf("make %s mode 0600: %w: it holds a private key that other users may read; run chmod 600 %s", p, err, p)
		}
	}
	if len(write) == 0 {
		fmt.Fprintf(o.Out, "[download-certs] Every file is there already\n")
		return nil
	}
	for _, f := range write {
		fmt.Fprintf(o.Out, "[download-certs] Wrote %s\n", f.Target)
	}
	return nil
}

// missingFolders lists the folders of targets that do not exist,
// outermost first: those the transaction creates.
func missingFolders(targets []string) ([]string, error) {
	var missing []string
	for _, p := range targets {
		var here []string
		for d := filepath.Dir(p); d != filepath.Dir(d); d = filepath.Dir(d) {
			_, err := os.Lstat(d)
			if err == nil {
				break
			}
			// ENOTDIR: a file on the way, which the transaction refuses.
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				return nil, fmt.Errorf("check folder %s: %w", d, err)
			}
			here = append([]string{d}, here...)
		}
		for _, d := range here {
			if !slices.Contains(missing, d) {
				missing = append(missing, d)
			}
		}
	}
	return missing, nil
}

// decryptAll decrypts every non-empty entry of data, as kubeadm's
// getDataFromSecret: one that does not decrypt fails the whole download.
// Its error says the key is wrong, unless the key decrypts another entry:
// then that one entry is corrupt, and a new key would not help.
func decryptAll(data map[string][]byte, key []byte) (map[string][]byte, error) {
	out := make(map[string][]byte, len(data))
	// Sorted: the same entry named on every run.
	var bad string
	var badErr error
	decrypted := 0
	for _, name := range slices.Sorted(maps.Keys(data)) {
		sealed := data[name]
		if len(sealed) == 0 {
			out[name] = nil
			continue
		}
		plain, err := Decrypt(key, sealed)
		if err != nil {
			if bad == "" {
				bad, badErr = name, err
			}
			continue
		}
		out[name] = plain
		decrypted++
	}
	switch {
	case bad == "":
		return out, nil
	case decrypted > 0:
		// The key is right: the entry was sealed with another one, or edited.
		return nil, fmt.Errorf("the certificate key does not decrypt %s: entry %s: %w: the key decrypts the other entries, so this one is corrupt (edited, or sealed with another key); upload again from a control-plane node (certctl certs upload, or kubeadm init phase upload-certs --upload-certs); nothing was written", SecretName, bad, badErr)
	}
	return nil, fmt.Errorf("the certificate key does not decrypt %s: entry %s: %w: pass the key the upload printed, or upload again with a new key", SecretName, bad, badErr)
}

// emptyRequired lists the data keys of es that files holds empty while
// only a CA's key may be (an external CA keeps it; Upload and kubeadm
// store it empty) or a file an external etcd without TLS has no path for.
// Any other empty entry (an edited Secret, or one kubeadm uploaded from a
// node that lacked the file) would leave a joining node without it, or
// with a key and no certificate.
func emptyRequired(es []entry, files map[string][]byte) []string {
	var empty []string
	for _, e := range es {
		if data, ok := files[e.key]; ok && len(data) == 0 && !e.optional && e.path != "" {
			empty = append(empty, e.key)
		}
	}
	return empty
}

// strayKey checks the file of a key entry that is empty in the Secret (an
// external CA keeps the key): download writes its certificate alone, so a
// key already in the folder must match that certificate, else it is
// another cluster's and would sit beside a certificate it does not match.
func strayKey(e entry, files map[string][]byte, where string) error {
	if e.kind != kindKey || e.path == "" || len(files[e.pair]) == 0 {
		return nil
	}
	old, err := pki.ReadFile(e.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", e.path, err)
	}
	certs, err := pki.ParseCerts(files[e.pair])
	if err != nil {
		return fmt.Errorf("%s in %s: %w", e.pair, where, err)
	}
	key, err := pki.ParsePrivateKey(old)
	if err != nil || !pki.SamePublicKey(certs[0].PublicKey, key.Public()) {
		why := "does not match"
		if err != nil {
			why = fmt.Sprintf("cannot be read as a key (%v), so it cannot match", err)
		}
		return fmt.Errorf("%s %s the cluster's %s in secret %s, which holds no %s (an external CA keeps it): it is another cluster's key; nothing was written. Move it aside (or remove it) and download again", e.path, why, e.pair, where, e.key)
	}
	return nil
}

// have splits the data keys of es into those data has, in es's order,
// and those it lacks, sorted.
func have(es []entry, data map[string][]byte) (held, lacked []string) {
	for _, e := range es {
		if _, ok := data[e.key]; ok {
			held = append(held, e.key)
		} else {
			lacked = append(lacked, e.key)
		}
	}
	slices.Sort(lacked)
	return held, lacked
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// externalFolders are the absolute folders of the etcd.external files of
// es, which Download may write outside the certificate folder.
func externalFolders(es []entry) []string {
	var dirs []string
	for _, e := range es {
		if !strings.HasPrefix(e.key, "external-") || e.path == "" {
			continue
		}
		if d := filepath.Dir(absPath(e.path)); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// foreignFiles is Download's refusal of another cluster's files: conflicts
// (shared files that differ from the Secret's), leaves (certificates no CA
// of the Secret signed; remove is them with their keys) in certDir, and
// confs (kubeconfig files trusting another CA, or unreadable), each named.
func foreignFiles(certDir, where string, conflicts, leaves, remove []string, confs []foreignConf) error {
	var why, otherCA, confPaths []string
	if len(conflicts) > 0 {
		why = append(why, fmt.Sprintf("%s differ from the cluster's in secret %s", strings.Join(conflicts, ", "), where))
	}
	if len(leaves) > 0 {
		why = append(why, fmt.Sprintf("%s are not signed by the cluster's CAs in secret %s", strings.Join(leaves, ", "), where))
	}
	for _, c := range confs {
		confPaths = append(confPaths, c.path)
		if c.err == nil {
			otherCA = append(otherCA, c.path)
		}
	}
	if len(otherCA) > 0 {
		why = append(why, fmt.Sprintf("%s trust another cluster's CA, not the cluster's in secret %s", strings.Join(otherCA, ", "), where))
	}
	for _, c := range confs {
		if c.err != nil {
			why = append(why, c.err.Error())
		}
	}
	inCertDir := slices.Concat(conflicts, remove)
	var fix string
	switch {
	case len(confs) == 0:
		fix = fmt.Sprintf("this folder holds another cluster's files; nothing was written. Move %s aside (or remove %s) and download again, or pass --cert-dir an empty folder", certDir, strings.Join(inCertDir, " "))
	case len(inCertDir) == 0:
		fix = fmt.Sprintf("this node holds kubeconfig files that are not this cluster's; nothing was written. Move them aside (or remove %s) and download again", strings.Join(confPaths, " "))
	default:
		fix = fmt.Sprintf("this node holds another cluster's files; nothing was written. Move %s and %s aside (or remove %s) and download again", certDir, strings.Join(confPaths, " "), strings.Join(slices.Concat(inCertDir, confPaths), " "))
	}
	return fmt.Errorf("%s: %s", strings.Join(why, "; "), fix)
}

// makeParent makes the folders up to the parent of certDir that do not
// exist, pki.DirMode less the umask, and returns them, outermost first.
func makeParent(certDir string) ([]string, error) {
	made, err := missingFolders([]string{absPath(certDir)})
	if err != nil || len(made) == 0 {
		return nil, err
	}
	if err := os.MkdirAll(made[len(made)-1], pki.DirMode&^umask()); err != nil {
		return nil, fmt.Errorf("create folder %s: %w", made[len(made)-1], err)
	}
	return made, nil
}

// unmakeParent removes what makeParent made, and certctl's lock file in
// it, for a download that did not commit: the node is left as it was. A
// folder that holds anything else stays.
func unmakeParent(certDir string, made []string) {
	if len(made) == 0 {
		return
	}
	if l, err := lock.Beside(certDir); err == nil {
		_ = os.Remove(l)
	}
	for i := len(made) - 1; i >= 0; i-- {
		_ = os.Remove(made[i])
	}
}

// kubeconfigDirs is the node's kubeconfig folder, when there is one, for
// the lock's recovery: it also looks beside a link to the certificate
// folder there (/etc/kubernetes/pki -> /data/pki), where a run given that
// name left its transaction.
func kubeconfigDirs(dir string) []string {
	if dir == "" {
		return nil
	}
	return []string{dir}
}
