// Command certctl manages the certificates of a Kubernetes control-plane node.
package main

import (
	"context"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/cmd"
	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/interrupt"
)

func main() {
	exitcode.OnGoroutinePanic(os.Stderr, os.Exit)
	os.Exit(run(cmd.NewRootCommand(os.Stdout, os.Stderr), os.Stderr))
}

// run executes root and returns the exit status. SIGINT and SIGTERM cancel
// it (internal/interrupt). A panic, a bug, exits 1, not Go's 2, which renew's
// timer reads as "nothing to do" and monitoring as "expires soon".
func run(root *cobra.Command, errOut io.Writer) (code int) {
	ctx, interrupts := interrupt.Watch(context.Background(), errOut, os.Exit)
	defer func() {
		if r := recover(); r != nil {
			code = exitcode.Panicked(errOut, r)
		}
	}()
	return interrupts.Exit(root.ExecuteContext(ctx))
}
