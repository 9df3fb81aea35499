// Command certctl manages the certificates of a Kubernetes control-plane node.
package main

import (
	"context"
	"os"

	"github.com/certctl/certctl/cmd"
	"github.com/certctl/certctl/internal/interrupt"
)

func main() {
	// The first SIGINT or SIGTERM cancels ctx; certctl then ends within a
	// second, saying what the interruption left (internal/interrupt).
	ctx, interrupts := interrupt.Watch(context.Background(), os.Stderr, os.Exit)
	root := cmd.NewRootCommand(os.Stdout, os.Stderr)
	os.Exit(interrupts.Exit(root.ExecuteContext(ctx)))
}
