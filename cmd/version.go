package cmd

import (
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/buildinfo"
	"github.com/certctl/certctl/internal/output"
)

// version is set at build time: -ldflags "-X github.com/certctl/certctl/cmd.version=v0.1.0".
var version = "dev"

func newVersionCommand() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "version",
		Short: "Print certctl's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return buildinfo.Print(cmd.OutOrStdout(), buildinfo.Version(version), format)
		},
	}
	c.Flags().StringVarP(&format, "output", "o", "text", output.Help("short"))
	return c
}
