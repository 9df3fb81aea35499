// Command gendocs regenerates the command reference: go run ./hack/gendocs docs/reference
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/certctl/certctl/cmd"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs DIR")
		os.Exit(2)
	}
	if err := generateReference(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

// generateReference writes one Markdown page per command into dir (the
// command reference in docs/reference), and README.md, the index, removing
// pages of commands that no longer exist. The pages carry no date, so
// that they only change when a command does, and a test can fail when
// they are stale.
func generateReference(dir string) error {
	root := cmd.NewRootCommand(io.Discard, io.Discard)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	old, err := filepath.Glob(filepath.Join(dir, "certctl*.md"))
	if err != nil {
		return err
	}
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("remove stale page %s: %w", p, err)
		}
	}
	disableAutoGenTag(root)
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		return fmt.Errorf("generate command reference in %s: %w", dir, err)
	}
	// For readers who open docs/reference/ first.
	return os.WriteFile(filepath.Join(dir, "README.md"), []byte(`# certctl command reference

Generated from the commands' own help by `+"`make docs`"+`; do not edit by hand.
Start with [certctl](certctl.md).
`), 0o644)
}

func disableAutoGenTag(c *cobra.Command) {
	c.DisableAutoGenTag = true
	for _, sub := range c.Commands() {
		disableAutoGenTag(sub)
	}
}
