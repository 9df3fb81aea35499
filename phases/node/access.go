package node

import (
	"context"
	"io"
	"time"
)

// Access says how a command works on a node's folders, so that every
// command reads them consistently and writes them only under certctl's
// lock.
type Access struct {
	Dir            string   // the folder locked: certificates, or a CSR folder
	KubeconfigDirs []string // also recovered and watched
	// Recovers: an interrupted renewal or write in the folders is recovered
	// first (Lock); otherwise the lock is only taken (LockOnly).
	Recovers bool
	// DryRun reads without the lock and writes nothing (DryRun).
	DryRun      bool
	LockTimeout time.Duration
	Out, ErrOut io.Writer
}

// Run runs run with the output it must write to, as a dry run or under
// the lock.
func (a Access) Run(ctx context.Context, run func(out io.Writer) error) error {
	if a.DryRun {
		return DryRun(ctx, a.ErrOut, a.Out, a.Dir, a.KubeconfigDirs, a.Recovers, run)
	}
	lock := func() (func(), error) { return LockOnly(ctx, a.Dir, a.LockTimeout) }
	if a.Recovers {
		lock = func() (func(), error) { return Lock(ctx, a.ErrOut, a.Dir, a.LockTimeout, a.KubeconfigDirs...) }
	}
	release, err := lock()
	if err != nil {
		return err
	}
	defer release()
	return run(a.Out)
}
