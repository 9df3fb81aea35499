package cmd

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renew"
)

// addCompletions makes cobra's `certctl completion bash|zsh|fish|powershell`
// part of the tree (so that docs/reference lists it, and strict, called
// after, makes `completion foo` an error too) and registers the
// dynamic completions every command shares: the -o values each command
// accepts, the --encryption-algorithm values, and renew's --signer-name
// NAME=SIGNER. Certificate names come
// from each command's ValidArgs (the inventory), backup names from restore's
// ValidArgsFunction (completeBackups).
func addCompletions(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	eachCommand(root, func(c *cobra.Command) {
		if f := c.Flags().Lookup("output"); f != nil {
			values := output.HelpFormats(f.Usage)
			_ = c.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				// No space after "jsonpath=": a template follows.
				return values, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
			})
		}
		if c.Flags().Lookup("encryption-algorithm") != nil {
			_ = c.RegisterFlagCompletionFunc("encryption-algorithm", cobra.FixedCompletions(config.EncryptionAlgorithms, cobra.ShellCompDirectiveNoFileComp))
		}
		if c.Flags().Lookup("signer-name") != nil {
			_ = c.RegisterFlagCompletionFunc("signer-name", completeSignerName)
		}
	})
}

// completeSignerName completes renew's --signer-name NAME=SIGNER
// (renew.SignerNameCompletions).
func completeSignerName(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	out, more := renew.SignerNameCompletions(toComplete)
	if more {
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeBackups completes restore's argument: the backups beside the
// certificate folder that f's flags name (read only: no lock, no
// recovery, which would write), newest first, and "latest".
func completeBackups(f *folderFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		certDir, err := f.certDir(cmd, io.Discard)
		if err != nil {
			return []string{"latest"}, cobra.ShellCompDirectiveNoFileComp
		}
		return renew.BackupNames(certDir), cobra.ShellCompDirectiveNoFileComp
	}
}
