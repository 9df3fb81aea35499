package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/txn"
)

// Read runs read, the work of a command that only reads
// (check-expiration, certs list, restore's listing), without certctl's
// lock: monitoring must never wait for a renewal (issue 8). The lock is
// taken, without waiting, only when there is something to recover (an
// interrupted transaction, or a temporary file left by a killed write):
// recoverIfUnlocked then finishes it first, or says why it reads the files
// as they are.
//
// A renewal may also start while read runs, and replace a certificate and
// its key by two renames that read could see half done. Every transaction
// creates and removes its folder beside the certificate folder, and every
// write renames a file in its folder, which changes that folder's
// modification time: when one moved while read ran, or a transaction was
// being applied when read started or ended (txn.Applying), read runs
// again. So too when recovery is skipped because another certctl holds the
// lock (its transaction's folder is there while it runs): the files are
// read as they are, but not halfway through its renames.
func Read(ctx context.Context, errOut io.Writer, certDir string, kubeconfigDirs []string, read func() error) error {
	if err := checkFolders(certDir, kubeconfigDirs); err != nil {
		return err
	}
	say := errOut // why recovery was skipped: said once
	return retry(ctx, func(last bool) (bool, error) {
		pending, err := pendingRecovery(certDir, kubeconfigDirs)
		if err != nil {
			return true, WithPermissionHint(err)
		}
		if pending || last {
			release, locked, err := recoverIfUnlocked(ctx, say, certDir, kubeconfigDirs...)
			if err != nil {
				return true, err
			}
			defer release()
			say = io.Discard
			if locked || last {
				return true, read()
			}
		}
		before := settled(certDir, kubeconfigDirs)
		err = read()
		return err != nil || before != nil && slices.Equal(before, settled(certDir, kubeconfigDirs)), err
	})
}

// retry calls try up to three times, 200ms apart to let a writer finish,
// until it reports done or fails; last is set on the third call.
func retry(ctx context.Context, try func(last bool) (done bool, err error)) error {
	const attempts = 3
	for i := 1; ; i++ {
		if done, err := try(i == attempts); done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// watchedDirs are the folders whose files certctl replaces.
func watchedDirs(certDir string, kubeconfigDirs []string) []string {
	dirs := tempDirs(certDir, kubeconfigDirs)
	roots, _ := txnRoots(certDir, kubeconfigDirs)
	for _, root := range roots {
		dirs = append(dirs, filepath.Dir(root))
	}
	return dirs
}

// pendingRecovery reports whether Lock has something to do.
func pendingRecovery(certDir string, kubeconfigDirs []string) (bool, error) {
	roots, err := txnRoots(certDir, kubeconfigDirs)
	if err != nil {
		return false, err
	}
	// Even empty: a run killed between creating it and its first staged
	// file leaves it, and Recover removes it. Beside every name of the
	// folder (aliases): a run given another name left it there.
	for i, root := range roots {
		if _, err := os.Lstat(root); err == nil {
			return true, nil
		} else if i == 0 && !errors.Is(err, fs.ErrNotExist) {
			return false, err // another name's folder unreadable: not this one's to judge
		}
	}
	for _, d := range watchedDirs(certDir, kubeconfigDirs) {
		entries, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return false, err
		}
		for _, e := range entries {
			if e.Type().IsRegular() && atomicfile.IsTemp(e.Name()) {
				return true, nil
			}
		}
	}
	return false, nil
}

// settled returns the modification times of the watched folders, or nil
// while a transaction beside certDir is being applied (txn.Applying): a
// read is consistent when settled is the same, not nil, before and after
// it.
func settled(certDir string, kubeconfigDirs []string) []int64 {
	roots, _ := txnRoots(certDir, kubeconfigDirs)
	if slices.ContainsFunc(roots, txn.Applying) {
		return nil
	}
	out := []int64{}
	for _, d := range watchedDirs(certDir, kubeconfigDirs) {
		if st, err := os.Stat(d); err == nil {
			out = append(out, st.ModTime().UnixNano())
		} else {
			out = append(out, 0)
		}
	}
	return out
}

// DryRun runs run, a dry run, which only reads: the check pass
// and the plan. It takes no lock and recovers nothing, so that it writes
// nothing at all, not even the lock file (it works on a read-only
// /etc/kubernetes), and never waits for another certctl. As Read does,
// it runs again when a watched folder changed while it ran, or a
// transaction was being applied (settled); only the last run's output is
// printed.
//
// When recovers is set, the real run would first recover an interrupted
// renewal or write (Lock): the dry run only says so on errOut,
// and plans for the files as they are.
func DryRun(ctx context.Context, errOut, out io.Writer, dir string, kubeconfigDirs []string, recovers bool, run func(io.Writer) error) error {
	if recovers {
		pending, err := pendingRecovery(dir, kubeconfigDirs)
		if err != nil {
			return WithPermissionHint(err)
		}
		if pending {
			fmt.Fprintf(errOut, "[dry-run] an interrupted renewal or write left files beside or in %s: the real run recovers them first (nothing is recovered now); this plan is for the files as they are\n", dir)
		}
	}
	var buf bytes.Buffer
	return retry(ctx, func(last bool) (bool, error) {
		buf.Reset()
		before := settled(dir, kubeconfigDirs)
		err := run(&buf)
		if !last && (before == nil || !slices.Equal(before, settled(dir, kubeconfigDirs))) {
			return false, nil
		}
		if _, werr := buf.WriteTo(out); werr != nil && err == nil {
			err = werr
		}
		return true, err
	})
}
