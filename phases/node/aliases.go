package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/pki"
)

// A certificate folder may have two names: /etc/kubernetes/pki, a link
// to /data/pki on a data disk. Transactions and backups are kept beside
// the name a command was given (txn.Root, certdir.Beside), which users
// and docs rely on, so a run killed under one name leaves its
// transaction beside that one (/etc/kubernetes/.certctl-txn), where a
// command given the other name (/data/pki) did not look: it wrote the
// folder with a transaction half applied beside the other name, and the
// check of commands that only read did not see it either. Recovery, and
// that check, look beside every name of the folder they can find
// (aliases).

// aliases returns the other names of certDir, beside which a transaction
// on it may have been left: the folder it resolves to when it is reached
// through a symbolic link, and a link to it named pki in a kubeconfig
// folder (kubeadm's layout: /etc/kubernetes/pki beside the kubeconfigs).
// A name whose parent is the same folder as that of certDir, or of an
// earlier name, is left out: it has the same transaction root. A link
// anywhere else cannot be found.
func aliases(certDir string, kubeconfigDirs []string) []string {
	st, err := os.Stat(certDir)
	if err != nil {
		return nil
	}
	var candidates []string
	if resolved, err := filepath.EvalSymlinks(certDir); err == nil {
		candidates = append(candidates, resolved)
	}
	for _, k := range kubeconfigDirs {
		candidates = append(candidates, filepath.Join(k, "pki"))
	}
	var out []string
	parents := []string{filepath.Dir(absClean(certDir))}
	for _, c := range candidates {
		c = absClean(c)
		cst, err := os.Stat(c)
		if err != nil || !os.SameFile(st, cst) {
			continue
		}
		if slices.ContainsFunc(parents, func(p string) bool { return p == filepath.Dir(c) || pki.SameFile(p, filepath.Dir(c)) }) {
			continue
		}
		parents = append(parents, filepath.Dir(c))
		out = append(out, c)
	}
	return out
}

// Names are the names of certDir beside which a run may have kept its
// transactions, backups and records: certDir itself first, then its
// aliases. Every reader of what runs keep beside the folder (the owed
// restarts, the backups) looks beside each.
func Names(certDir string, kubeconfigDirs []string) []string {
	return append([]string{certDir}, aliases(certDir, kubeconfigDirs)...)
}

func absClean(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}

// txnRoots are the transaction roots of certDir under each of its names:
// its own first, then those of its aliases.
func txnRoots(certDir string, kubeconfigDirs []string) ([]string, error) {
	root, err := txn.Root(certDir)
	if err != nil {
		return nil, err
	}
	roots := []string{root}
	for _, a := range aliases(certDir, kubeconfigDirs) {
		if r, err := txn.Root(a); err == nil {
			roots = append(roots, r)
		}
	}
	return roots, nil
}

// recoverAliases recovers, as recoverIn does for certDir, what an
// interrupted run given another name of certDir left beside that name.
// The caller holds certDir's locks, which include the lock beside the
// folder certDir resolves to (acquire); the lock beside another name is
// taken without waiting (a command given that name takes it first, then
// the real folder's, which this one holds: waiting could deadlock). When
// it cannot be taken and a transaction is there, the command is refused:
// writing the folder now, and that transaction rolled forward later,
// would put its older files over this command's.
func recoverAliases(errOut io.Writer, certDir string, kubeconfigDirs, also []string) error {
	for _, a := range aliases(certDir, kubeconfigDirs) {
		root, err := txn.Root(a)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(root); err != nil {
			// Nothing left there (a run given that name would take the
			// real folder's lock, held here, before it made one). No
			// lock is taken, nor its file made, for nothing.
			continue
		}
		path, err := lock.Beside(a)
		if err != nil {
			return err
		}
		release, err := take(context.Background(), path, lock.Wait{})
		if err != nil {
			var held *lock.HeldError
			if errors.As(err, &held) {
				return fmt.Errorf("%s holds the lock %s of %s, another name of --cert-dir %s, beside which an interrupted run left the transaction folder %s: nothing was changed; run this command again once that certctl has finished: it recovers the transaction first", held.Holder, path, a, certDir, root)
			}
			return WithPermissionHint(fmt.Errorf("cannot recover the transaction folder %s, left by a run given --cert-dir %s (another name of %s): %w; nothing was changed", root, a, certDir, err))
		}
		err = recoverOneName(errOut, a, kubeconfigDirs, also)
		release()
		if err != nil {
			return fmt.Errorf("%w (left by a run given --cert-dir %s, another name of %s)", err, a, certDir)
		}
	}
	return nil
}
