// Package early takes SIGINT, SIGTERM and SIGHUP from Go's default (death,
// status 130, 143 or 129 by the signal, no word said) as early as a Go
// program can:
// in the init of a package that imports nothing but the standard
// library's os/signal and what it needs. Go initialises the packages of a
// program in the order of their import paths as far as their imports
// allow (the Go specification, "Package initialization"), so this one runs
// right after os/signal, before client-go's and cobra's packages and
// certctl's own, which take certctl's first ~100 ms on a busy node. A
// signal from then on waits in Caught until internal/interrupt turns it
// into the cancellation of the command's context.
//
// What it cannot cover: the Go runtime's start and the standard library
// packages before os/signal (about a millisecond): a signal then ends the
// process as the kernel's default does, before it read or wrote anything
// (docs/exit-codes.md, "Signals").
//
// It is a package of its own, with a package variable, because nothing
// else runs that early: main's first line runs after every package's init.
package early

import (
	"os"
	"os/signal"
	"syscall"
)

// Caught receives the first of Signals from this package's init on; a
// second one, before internal/interrupt reads the first, is dropped
// (os/signal does not block).
var Caught = make(chan os.Signal, 1)

// Signals are those that cancel a command: SIGINT (Ctrl-C), SIGTERM
// (systemd, timeout) and SIGHUP (the ssh session or terminal that ran it
// went away), unless certctl started with SIGHUP ignored (nohup): Notify
// would end that, and a session's end would then stop a command its user
// meant to outlive it.
var Signals = []os.Signal{os.Interrupt, syscall.SIGTERM}

func init() {
	if !signal.Ignored(syscall.SIGHUP) {
		Signals = append(Signals, syscall.SIGHUP)
	}
	signal.Notify(Caught, Signals...)
}
