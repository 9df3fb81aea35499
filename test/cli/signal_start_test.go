package cli

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/treetest"
)

// earlyInit is the line GODEBUG=inittrace=1 prints once the package that
// installs certctl's SIGINT and SIGTERM handler has run its init: from
// then on a signal is certctl's, not Go's default death.
const earlyInit = "init github.com/certctl/certctl/internal/interrupt/early "

// TestSignalAtStart: a SIGTERM or SIGINT in the first ~100 ms of a
// certctl process (while client-go's packages initialise, while cobra's
// commands are built) killed it as Go's default does: no "interrupted"
// line, and status 143 for SIGTERM where docs/exit-codes.md promises 130,
// since the handler was installed only before the command ran. Now it is
// installed by the first package initialised after the standard library's
// os/signal. The signal is sent at once after the start, once that
// package's init is traced (GODEBUG=inittrace=1), once client-go's first
// package's is, and after a random delay: once the handler is there,
// certctl always exits 130 with "interrupted; nothing was changed", and
// before, only the signal itself may end it (the Go runtime's first
// milliseconds, docs/exit-codes.md). The folder is left as it was.
func TestSignalAtStart(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	// renew waits for this lock: a signal at any instant finds it
	// before it changed anything.
	snapshot := holdLock(t, n)
	before := snapshot()

	waits := []struct {
		name  string
		ready string // what stderr shows before the signal; "" for none
	}{
		{name: "at once"},
		{name: "once the handler's package is initialised", ready: earlyInit},
		{name: "while client-go's packages are initialised", ready: "init k8s.io/"},
		{name: "after a random delay up to 100ms", ready: "sleep"},
	}
	caught := 0
	for i := range 40 {
		sig := []syscall.Signal{syscall.SIGTERM, syscall.SIGINT}[i/len(waits)%2]
		w := waits[i%len(waits)]
		handled, code, stderr, err := signalAtStart(t, bin, append([]string{"renew", "all", "--lock-timeout", "1h"}, n.flags()...), sig, w.ready)
		if err != nil {
			t.Errorf("%v %s: %v", sig, w.name, err)
			continue
		}
		// The handler's package is initialised before any of client-go's.
		handled = handled || w.ready == "init k8s.io/"
		var ws syscall.WaitStatus
		if code.Sys() != nil {
			ws = code.Sys().(syscall.WaitStatus)
		}
		switch {
		case ws.Signaled() && !handled && ws.Signal() == sig:
			// Before the handler: the Go runtime's first milliseconds.
		case ws.Signaled():
			t.Errorf("%v %s: certctl was killed by %v after its handler was installed (%q, or client-go's first package, was traced before the signal):\n%s", sig, w.name, ws.Signal(), strings.TrimSpace(earlyInit), stderr)
		case code.ExitCode() != exitcode.OfSignal(sig) || !strings.HasPrefix(lastLine(stderr), "error: interrupted; nothing was changed"):
			t.Errorf("%v %s: exit status %d, last line %q; want %d and \"error: interrupted; nothing was changed\"", sig, w.name, code.ExitCode(), lastLine(stderr), exitcode.OfSignal(sig))
		default:
			caught++
		}
	}
	t.Logf("%d of 40 signals handled by certctl, the others before its handler", caught)
	treetest.AssertSame(t, before, snapshot())
}

// signalAtStart starts certctl with args and GODEBUG=inittrace=1, sends
// sig once stderr holds ready (at once for "", after a random delay up to
// 100 ms for "sleep"), and returns whether stderr showed earlyInit when it
// was sent, how certctl ended, and its stderr.
func signalAtStart(t *testing.T, bin string, args []string, sig syscall.Signal, ready string) (bool, *exec.ExitError, string, error) {
	t.Helper()
	var stderr syncBuffer
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cmd.Environ(), "GODEBUG=inittrace=1")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return false, nil, "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(10 * time.Second)
	switch ready {
	case "":
	case "sleep":
		time.Sleep(rand.N(100 * time.Millisecond))
	default:
		for !strings.Contains(stderr.String(), ready) {
			select {
			case err := <-exited:
				return false, nil, stderr.String(), fmt.Errorf("certctl ended before its stderr showed %q: %v", ready, err)
			case <-deadline:
				cmd.Process.Kill()
				<-exited
				return false, nil, stderr.String(), fmt.Errorf("certctl's stderr did not show %q within 10s:\n%s", ready, stderr.String())
			default:
			}
		}
	}
	handled := strings.Contains(stderr.String(), earlyInit)
	if err := cmd.Process.Signal(sig); err != nil {
		return false, nil, "", err
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-exited
		return false, nil, stderr.String(), fmt.Errorf("certctl did not end within 5s of %v:\n%s", sig, stderr.String())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return false, nil, stderr.String(), fmt.Errorf("certctl ended with %v, want an exit status or death by the signal:\n%s", err, stderr.String())
	}
	return handled, exit, stderr.String(), nil
}
