// Command certctl manages the certificates of a Kubernetes control-plane node.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/cmd"
	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/interrupt"
	"github.com/certctl/certctl/internal/interrupt/early"
)

func main() {
	exitcode.OnGoroutinePanic(os.Stderr, os.Exit)
	os.Exit(run(cmd.NewRootCommand(os.Stdout, os.Stderr), early.Caught, os.Stderr))
}

// run executes root and returns the exit status. SIGINT, SIGTERM and SIGHUP cancel
// it (internal/interrupt); caught holds one that came before, from the
// init of package early on (while client-go's packages were initialised,
// while root was built): then root is not run at all, and the status is
// 143 (SIGTERM) or 130, with "interrupted; nothing was changed". A panic, a bug, exits 1, not
// Go's 2, which renew's timer reads as "nothing to do" and monitoring as
// "expires soon".
func run(root *cobra.Command, caught chan os.Signal, errOut io.Writer) (code int) {
	ctx, interrupts := interrupt.Watch(context.Background(), caught, errOut, os.Exit)
	if err := ctx.Err(); err != nil {
		return interrupts.Exit(fmt.Errorf("signal before the command started: %w", err))
	}
	defer func() {
		if r := recover(); r != nil {
			code = exitcode.Panicked(errOut, r)
		}
	}()
	return interrupts.Exit(root.ExecuteContext(ctx))
}
