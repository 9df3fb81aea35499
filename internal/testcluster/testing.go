package testcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// LogTailLines is how many lines of each component's log Start prints when a test fails.
const LogTailLines = 40

// Start creates and starts a Cluster for the test t and stops it when the test and its subtests
// end. Options.Dir defaults to t.TempDir() and Options.Logf to t.Logf. It fails the test at once if
// the cluster does not come up (for example, kube binaries missing: `make kube-binaries`). When
// the test fails or panics, the last LogTailLines lines of each component's log are written to
// standard error.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	return forTest(t, New, opts, "test cluster", "start test cluster", (*Cluster).Start)
}

// WritePKI creates a Cluster for the test t and runs only its PKI step (certctl by default): the
// files are in c.PKIDir() and c.KubeconfigDir(), and no component runs until c.Start.
func WritePKI(t testing.TB, opts Options) *Cluster {
	t.Helper()
	return forTest(t, New, opts, "test cluster", "write test cluster PKI", (*Cluster).WritePKI)
}

// StartHA creates and starts an HA control plane of opts.Nodes nodes for the test t, as Start
// does for one node: Options.Dir defaults to t.TempDir(), Options.Logf to t.Logf, every node is
// stopped when the test ends, and every node's log tails are written to standard error when it failed.
func StartHA(t testing.TB, opts Options) *HA {
	t.Helper()
	return forTest(t, NewHA, opts, "HA test cluster", "start HA test cluster", (*HA).Start)
}

// Runner is what a Cluster (one node) and an HA (several) both do.
type Runner interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	State() State
	WriteLogTails(w io.Writer, n int)
}

// forTest creates a cluster with create for the test t, registers its Stop and the logging of its
// log tails when the test fails, then runs step on it (doing names step in the failure); what
// names the cluster in the other messages.
func forTest[C Runner](t testing.TB, create func(Options) (C, error), opts Options, what, doing string, step func(C, context.Context) error) C {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	c, err := create(opts)
	if err != nil {
		t.Fatalf("create %s: %v", what, err)
	}
	// Registered after t.TempDir's cleanup, so it runs before the folder is removed.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		err := c.Stop(ctx)
		if t.Failed() || panicking() || err != nil {
			var b strings.Builder
			c.WriteLogTails(&b, LogTailLines)
			if b.Len() > 0 {
				writeLogTails(t, "logs of the "+what+" of "+t.Name()+":\n"+b.String())
			}
		}
		if err != nil {
			t.Errorf("stop %s: %v", what, err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := step(c, ctx); err != nil {
		t.Fatalf("%s: %v", doing, err)
	}
	return c
}

// writeLogTails writes a failed test's log tails to standard error, not to the test's log.
// Without -v, go test prints a test's log only when the test ends, after its cleanups, so the
// tails come before it and the test's own last lines (its failed checks) end the output, which
// is what a truncated CI log keeps. With -v both are printed as they come.
func writeLogTails(t testing.TB, text string) {
	t.Helper()
	if _, err := io.WriteString(os.Stderr, text); err != nil {
		t.Log(text)
	}
}

// WriteLogTails writes the last n lines of certctl's log and of each component's log to w.
func (c *Cluster) WriteLogTails(w io.Writer, n int) {
	for _, name := range append([]string{"certctl"}, c.opts.Components...) {
		path := c.LogPath(name)
		tail, err := tailFile(path, n)
		if errors.Is(err, fs.ErrNotExist) {
			continue // never started
		}
		if err != nil {
			fmt.Fprintf(w, "---- %s: %v\n", name, err)
			continue
		}
		fmt.Fprintf(w, "---- last %d lines of %s:\n%s\n---- end of %s\n", n, path, tail, name)
	}
}

// panicking reports whether the calling goroutine is unwinding a panic. A test's cleanups run
// during its panic, but t.Failed() is still false then (Go 1.26), and the logs matter most then.
// A goroutine's stack shows the runtime's panic frame while deferred calls run.
func panicking() bool {
	return bytes.Contains(debug.Stack(), []byte("\npanic("))
}
