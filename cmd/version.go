package cmd

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time: -ldflags "-X github.com/certctl/certctl/cmd.version=v0.1.0".
var version = "dev"

// Version returns certctl's version: the one set at build time, else the
// module version Go recorded, else "dev".
func Version() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

func newVersionCommand() *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "version",
		Short: "Print certctl's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := map[string]string{"version": Version(), "goVersion": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH}
			switch output {
			case "":
				fmt.Fprintf(cmd.OutOrStdout(), "certctl %s (%s, %s)\n", info["version"], info["goVersion"], info["platform"])
			case "short":
				fmt.Fprintln(cmd.OutOrStdout(), info["version"])
			case "json":
				b, _ := json.MarshalIndent(info, "", "  ")
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			default:
				return fmt.Errorf("unknown output format %q: use short or json", output)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "", "output format: short or json")
	return c
}
