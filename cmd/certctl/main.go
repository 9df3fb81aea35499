// Command certctl manages the certificates of a Kubernetes control-plane node.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/certctl/certctl/cmd"
	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/interrupt"
)

func main() {
	exitOnGoroutinePanic()
	os.Exit(run(cmd.NewRootCommand(os.Stdout, os.Stderr), os.Stderr))
}

// run executes root and returns the exit status. SIGINT and SIGTERM cancel
// it (internal/interrupt). A panic, a bug, exits 1, not Go's 2, which renew's
// timer reads as "nothing to do" and monitoring as "expires soon".
func run(root *cobra.Command, errOut io.Writer) (code int) {
	ctx, interrupts := interrupt.Watch(context.Background(), errOut, os.Exit)
	defer func() {
		if r := recover(); r != nil {
			code = internalError(errOut, r)
		}
	}()
	return interrupts.Exit(root.ExecuteContext(ctx))
}

// exitOnGoroutinePanic makes a panic in another goroutine exit 1 too:
// client-go's and certctl's own goroutines end with utilruntime.HandleCrash,
// which calls these handlers before it crashes with Go's status 2.
func exitOnGoroutinePanic() {
	utilruntime.PanicHandlers = []func(context.Context, any){func(_ context.Context, r any) { os.Exit(internalError(os.Stderr, r)) }}
}

// internalError prints the panic r with its stack as a bug of certctl and
// returns the exit status to end with.
func internalError(errOut io.Writer, r any) int {
	fmt.Fprintf(errOut, "error: internal error: %v: this is a bug of certctl; please report it with the command line and this output\n%s", r, debug.Stack())
	return exitcode.Failure
}
