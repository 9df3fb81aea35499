// Package interrupt turns SIGINT, SIGTERM and SIGHUP (early.Signals) into
// the cancellation of the context a certctl command runs with, and ends
// certctl within a second.
package interrupt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/interrupt/early"
	"github.com/certctl/certctl/internal/lock"
)

// Grace is how long after the first SIGINT, SIGTERM or SIGHUP a command
// may take to return before certctl exits without it: under a second, as
// issue 13 asks of every command.
const Grace = 700 * time.Millisecond

// Interrupts turns the first SIGINT, SIGTERM or SIGHUP into the cancellation of the
// context every command runs with, and ends certctl within a second of it.
//
// Each wait (the lock, --jitter, the certificates API, a restart, key
// generation) ends with its context, and each command then returns: an
// error wrapping context.Canceled means that nothing was changed, an
// exitcode.Changed says what was. A command still running Grace
// after the signal is blocked where no context reaches (a write to a full
// pipe, say): certctl exits without it, as a kill would end it, which
// every write survives (internal/txn), saying that nothing was changed
// when it never took certctl's lock (lock.Taken). After the first signal the default
// action is back: a second one kills certctl at once.
type Interrupts struct {
	errOut io.Writer
	exit   func(int)
	ch     chan os.Signal
	cancel context.CancelCauseFunc

	mu     sync.Mutex
	got    os.Signal     // the first signal, nil before
	ending bool          // Exit or the watchdog is printing the last line
	fired  chan struct{} // closed when the watchdog has printed its line
	cut    string        // the lock held when the output's reader went away (SIGPIPE)
}

// Watch returns the context to run a command with and what ends
// it. caught is the channel that early.Signals were sent to before
// (early.Caught in main, whose init catches them from certctl's first
// milliseconds); nil for a new one. A signal already there cancels the
// context at once: the command must not be run (main checks ctx.Err()),
// and Exit says that nothing was changed. exit is os.Exit in main; the
// watchdog calls it with the signal's status (exitcode.OfSignal) after
// Grace. The context's cause is an exitcode.Signaled with the signal.
func Watch(parent context.Context, caught chan os.Signal, errOut io.Writer, exit func(int)) (context.Context, *Interrupts) {
	ctx, cancel := context.WithCancelCause(parent)
	if caught == nil {
		caught = make(chan os.Signal, 1)
	}
	in := &Interrupts{errOut: errOut, exit: exit, ch: caught, cancel: cancel, fired: make(chan struct{})}
	// Again for early.Caught: on after an earlier Watch's Stop (tests).
	signal.Notify(in.ch, early.Signals...)
	select {
	case sig := <-in.ch:
		signal.Stop(in.ch) // as watch: a second signal kills
		in.got = sig
		cancel(&exitcode.Signaled{Signal: sig})
	default:
		go in.watch(ctx)
	}
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE)
	go in.watchPipe(pipe)
	return ctx, in
}

// brokenOutput reports whether err is a write to certctl's stdout or
// stderr whose reader went away, not a connection's broken pipe.
func brokenOutput(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && (pe.Path == os.Stdout.Name() || pe.Path == os.Stderr.Name()) && errors.Is(pe.Err, syscall.EPIPE)
}

// watchPipe handles the output's reader going away (`certctl ... | head
// -1`): Go's default, death at the next write to stdout or stderr, would
// end a command halfway through the files it writes (init-phase writes
// them one by one). Before certctl's lock is taken nothing was changed,
// and certctl ends at once, as before. Once it is taken, the command goes
// on to its end, its writes to the broken pipe failing (EPIPE), and Exit
// says that the output was cut.
func (in *Interrupts) watchPipe(ch <-chan os.Signal) {
	defer utilruntime.HandleCrash()
	for range ch {
		if !outputGone() {
			// A connection's (an API server or etcd that reset it while
			// certctl wrote): once SIGPIPE is asked for, the kernel's
			// signal for every broken socket comes here too, and the
			// write's EPIPE is handled where it happens.
			continue
		}
		held := lock.Taken()
		in.mu.Lock()
		if held == "" && !in.ending {
			in.ending = true
			in.mu.Unlock()
			close(in.fired)
			in.exit(exitcode.BrokenPipe)
			return
		}
		in.cut = held
		in.mu.Unlock()
	}
}

func (in *Interrupts) watch(ctx context.Context) {
	defer utilruntime.HandleCrash()
	var sig os.Signal
	select {
	case sig = <-in.ch:
	case <-ctx.Done():
		return
	}
	signal.Stop(in.ch)
	in.mu.Lock()
	in.got = sig
	in.mu.Unlock()
	in.cancel(&exitcode.Signaled{Signal: sig})
	time.Sleep(Grace)
	in.mu.Lock()
	if in.ending {
		in.mu.Unlock()
		return
	}
	in.ending = true
	in.mu.Unlock()
	// Every write to the folders certctl manages is made under its lock:
	// without it, nothing was changed.
	why := fmt.Sprintf("certctl did not stop within %v of the signal (%v) and was ended at once", Grace, sig)
	if held := lock.Taken(); held != "" {
		fmt.Fprintf(in.errOut, "error: interrupted; %s after it had taken the lock %s: what it had committed stays, and the next certctl command finishes or discards a renewal left half done, as after a kill (certctl check-expiration shows the state)\n", why, held)
	} else {
		fmt.Fprintf(in.errOut, "error: interrupted; nothing was changed (%s, before it had taken certctl's lock)\n", why)
	}
	close(in.fired)
	in.exit(exitcode.OfSignal(sig))
}

// Exit prints the command's error (if any) on errOut, as main's last line,
// and returns the exit status; after a signal, the error says what the
// interruption left (exitcode.AfterSignal), with the signal's status
// (exitcode.OfSignal: 143 for SIGTERM, 130 for SIGINT and SIGHUP). When
// the watchdog fired first, Exit prints nothing more and returns that
// status once the watchdog's line is out.
func (in *Interrupts) Exit(err error) int {
	in.mu.Lock()
	if in.ending {
		sig := in.got
		in.mu.Unlock()
		<-in.fired
		if sig == nil { // the output's reader went away (watchPipe)
			return exitcode.BrokenPipe
		}
		return exitcode.OfSignal(sig)
	}
	in.ending = true
	sig, cut := in.got, in.cut
	in.mu.Unlock()
	in.cancel(nil)
	signal.Stop(in.ch)
	if sig == nil && brokenOutput(err) && lock.Taken() == "" {
		// The command saw the broken pipe before watchPipe did.
		return exitcode.BrokenPipe
	}
	if sig != nil {
		err = exitcode.AfterSignal(err, sig)
	}
	if cut != "" {
		fmt.Fprintf(in.errOut, "[warning] the reader of certctl's output went away (SIGPIPE) after certctl had taken the lock %s: certctl finished the command rather than stop halfway, but its output was cut; certctl check-expiration shows the state\n", cut)
	}
	if err != nil {
		if msg := err.Error(); msg != "" {
			fmt.Fprintf(in.errOut, "error: %s\n", msg)
		}
	}
	return exitcode.Of(err)
}

// outputGone reports whether the reader of certctl's stdout or stderr went
// away: the write end of a pipe whose read end is closed polls as an error.
func outputGone() bool {
	fds := []unix.PollFd{{Fd: int32(os.Stdout.Fd()), Events: unix.POLLOUT}, {Fd: int32(os.Stderr.Fd()), Events: unix.POLLOUT}}
	if n, err := unix.Poll(fds, 0); err != nil || n == 0 {
		return false
	}
	return fds[0].Revents&unix.POLLERR != 0 || fds[1].Revents&unix.POLLERR != 0
}
