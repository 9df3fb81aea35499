package cmd

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// GenerateReference writes one Markdown page per command into dir (the
// command reference in docs/reference), and README.md, the index, removing
// pages of commands that no longer exist. The pages carry no date, so
// that they only change when a command does, and a test can fail when
// they are stale.
func GenerateReference(dir string) error {
	root := NewRootCommand(io.Discard, io.Discard)
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
