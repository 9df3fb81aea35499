// Package exitcode is the one table of certctl's exit statuses, which
// docs/exit-codes.md documents. Scripts, cron and systemd units branch on
// them: a number never changes meaning within a command.
package exitcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"syscall"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
)

// The exit statuses. 2 means "done, but there is something to look at"
// for each command that has it, which the command's docs define; the
// three uses are documented apart and cannot be told apart by the number
// alone (docs/exit-codes.md).
const (
	OK      = 0
	Failure = 1
	// NothingToDo: renew --if-expires-within found nothing to renew. Not
	// 0, so that `certctl renew ... && hook` runs the hook only after a
	// renewal, and so that a timer unit missing SuccessExitStatus=2 shows
	// up as failed on its first day rather than after the yearly renewal
	// that would have told them apart (docs/cron.md).
	NothingToDo = 2
	// ExpiringSoon: check-expiration found a certificate or CA that
	// expires within --warn-within, or has expired, and no problem.
	ExpiringSoon = 2
	// ImportRefused: certs import refused a certificate; the accepted
	// ones were installed (docs/external-ca.md).
	ImportRefused = 2
	// Problems: check-expiration found a certificate with a problem
	// (unreadable, key missing or not matching, not signed by its CA, CA
	// missing, SAN drift). A problem outranks an expiry: a certificate
	// that does not match its key breaks the cluster now.
	Problems = 3
	// RestartOwed: check-expiration found no problem, but a static pod
	// still runs with replaced certificates: a restart that renew
	// --restart-control-plane could not do or verify. Outranks
	// ExpiringSoon; Problems outranks it.
	RestartOwed = 4
	// ExternalCA: renew renewed (or found nothing due among) the
	// certificates whose CA key is on disk, but skipped some that are due
	// whose CA key is not (an external CA): renew them with --use-api or
	// --use-csr. Neither full success nor failure; the timer unit counts
	// it as a success so that one offline CA does not fail it every day.
	ExternalCA = 5
	// NotAllIssued: renew --use-api installed the certificates whose
	// CSRs were issued, but some CSRs were denied or failed (they need
	// --new-request NAME), or were not issued before --timeout (the same
	// command picks them up again): the error names them and the
	// commands that finish the job. Nothing was installed for them.
	NotAllIssued = 6
	// Interrupted: every command, stopped by SIGINT or SIGHUP before it
	// was done (128+2, the shell's status for SIGINT, for both: a person
	// stopped it, at the terminal or by leaving it). The message says
	// "interrupted; nothing was changed", or what had been changed
	// (Changed). `signer run` is a daemon: a signal is how it is
	// stopped, and it exits 0.
	Interrupted = 130
	// Terminated: as Interrupted, for SIGTERM (128+15, the shell's status
	// for it, and the status of a death by it before certctl handles it):
	// systemd stopping the unit (`systemctl stop`, a shutdown), `timeout`,
	// `kill`. Apart from 130 so that the unit install-timer writes counts
	// a stop it asked for as a success (SuccessExitStatus=143): the
	// renewal is safe to stop and resumes at the next run, while a
	// TimeoutStartSec= that ends it is still a failure (systemd keeps the
	// timeout as the unit's result, whatever the status).
	Terminated = 143

	// BrokenPipe: the reader of certctl's output went away (`certctl ...
	// | head -1`) before the command took certctl's lock, so nothing was
	// changed; 141 is the shell's status for a death by SIGPIPE, which it
	// was before certctl handled the signal. After the lock, the command
	// finishes and says that its output was cut (internal/interrupt).
	BrokenPipe = 141
)

// Error carries an exit status other than Failure with its error. An
// Error without Err is a status, not a failure (renew's "nothing to do"):
// its message is empty, and main prints nothing for it.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}
func (e *Error) Unwrap() error { return e.Err }

// Of is the process exit status for an error a command returned: 0 for
// nil, an Error's code, Interrupted for a Changed or an error wrapping
// context.Canceled (certctl's commands run with a context that only
// SIGINT, SIGTERM and SIGHUP cancel: internal/interrupt; WithSignal makes
// it Terminated for SIGTERM), otherwise Failure. So renew's -o json
// summary has the status the process exits with.
func Of(err error) int {
	var e *Error
	var changed *Changed
	switch {
	case err == nil:
		return OK
	case errors.As(err, &e):
		return e.Code
	case errors.As(err, &changed), errors.Is(err, context.Canceled):
		return Interrupted
	}
	return Failure
}

// Changed is the error of a command that a signal stopped after it had
// changed something: Done says what (certificates installed, restarts
// still owed, files written so far) and what to do, for main to print as
// "interrupted; DONE". Without it an interrupted command says that nothing
// was changed, so every path that can stop after a write must return one.
type Changed struct {
	Done string
	Err  error // the interruption (context.Canceled) or the wait it ended
}

func (e *Changed) Error() string {
	if e.Err == nil {
		return e.Done
	}
	return e.Done + ": " + e.Err.Error()
}
func (e *Changed) Unwrap() error { return e.Err }

// OfProblems is the error of a check that found problems, each a line the
// check printed: the first, and how many more, with status Problems; nil
// for none.
func OfProblems(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	more := ""
	if len(problems) > 1 {
		more = fmt.Sprintf(" (and %d more problem(s), listed above)", len(problems)-1)
	}
	return &Error{Code: Problems, Err: fmt.Errorf("%s%s", problems[0], more)}
}

// Signaled is the cause (context.Cause) of the cancellation of a
// command's context by a signal, which internal/interrupt cancels it
// with: WithSignal reads the signal from it. It is context.Canceled as
// far as errors.Is and its message go, as a plain cancellation.
type Signaled struct{ Signal os.Signal }

func (s *Signaled) Error() string { return context.Canceled.Error() }
func (s *Signaled) Unwrap() error { return context.Canceled }

// OfSignal is the exit status of a command that sig stopped: Terminated
// for SIGTERM, Interrupted for SIGINT and SIGHUP.
func OfSignal(sig os.Signal) int {
	if sig == syscall.SIGTERM {
		return Terminated
	}
	return Interrupted
}

// WithSignal is err, a command's error, with the status of the signal
// that cancelled ctx when err is an interruption (Of gives Interrupted)
// and the signal was SIGTERM: for a summary printed before the command
// returns (renew's -o json) to have the status the process exits with.
func WithSignal(ctx context.Context, err error) error {
	var s *Signaled
	if Of(err) != Interrupted || !errors.As(context.Cause(ctx), &s) || OfSignal(s.Signal) == Interrupted {
		return err
	}
	return &Error{Code: OfSignal(s.Signal), Err: err}
}

// AfterSignal is the error of a command that sig stopped, err being
// what it returned: nil when it finished all the same (a renewal whose
// last step was done), "interrupted; nothing was changed" for an error
// from a cancelled wait, "interrupted; WHAT" for a Changed, each with
// sig's status (OfSignal). An Error keeps its status (the command
// finished: check-expiration found a problem) but for an interruption's,
// which takes sig's; any other error keeps its message (it says why the
// command stopped, and may say it was interrupted: --use-api's wait)
// with sig's status.
func AfterSignal(err error, sig os.Signal) error {
	var changed *Changed
	var coded *Error
	code := OfSignal(sig)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &changed):
		return &Error{Code: code, Err: &interruptedError{"interrupted; " + changed.Done, err}}
	case errors.Is(err, context.Canceled):
		return &Error{Code: code, Err: &interruptedError{"interrupted; nothing was changed", err}}
	case errors.As(err, &coded) && coded.Code != Interrupted && coded.Code != Terminated:
		return err
	}
	return &Error{Code: code, Err: err}
}

// interruptedError is the one line main prints for an interrupted
// command, wrapping what the command returned.
type interruptedError struct {
	msg string
	err error
}

func (e *interruptedError) Error() string { return e.msg }
func (e *interruptedError) Unwrap() error { return e.err }

// Panicked prints the panic r with its stack as a bug of certctl and
// returns the status to exit with: Failure, not Go's 2 for a crash, which
// renew's timer reads as "nothing to do" and monitoring as "expires soon".
func Panicked(errOut io.Writer, r any) int {
	fmt.Fprintf(errOut, "error: internal error: %v: this is a bug of certctl; please report it with the command line and this output\n%s", r, debug.Stack())
	return Failure
}

// OnGoroutinePanic makes a panic in another goroutine than main's exit
// (with exit) as Panicked says: client-go's and certctl's goroutines end
// with utilruntime.HandleCrash, which calls these handlers before it
// crashes with Go's status 2.
func OnGoroutinePanic(errOut io.Writer, exit func(int)) {
	utilruntime.PanicHandlers = []func(context.Context, any){func(_ context.Context, r any) { exit(Panicked(errOut, r)) }}
}
