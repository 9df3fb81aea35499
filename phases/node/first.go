package node

import (
	"context"
	"io"
	"time"
)

// RecoverFirst is, for a command that writes but first reads the files to
// decide what to do without the lock (renew: what is due, and with
// --use-api the CSRs it requests before it takes the lock), Lock's
// recovery ahead of that read. When an interrupted renewal or write waits
// to be finished or discarded (as Read finds it), it takes the lock,
// waiting up to wait (who holds it said on progress), recovers, and
// releases the lock. Otherwise it takes nothing, so that a run with
// nothing to do waits for no other certctl. Without it, a certificate
// renamed into place before a kill, its key not, read as not due, and the
// run ended with nothing to do, never recovering the key. A folder it
// cannot look into (a file where a folder should be, no permission) is
// the read's to report, in its own words: RecoverFirst then does nothing.
func RecoverFirst(ctx context.Context, errOut, progress io.Writer, certDir string, wait time.Duration, kubeconfigDirs ...string) error {
	if pending, err := pendingRecovery(certDir, kubeconfigDirs); err != nil || !pending {
		return nil
	}
	release, err := LockReporting(ctx, errOut, progress, certDir, wait, kubeconfigDirs...)
	if err != nil {
		return err
	}
	release()
	return nil
}
