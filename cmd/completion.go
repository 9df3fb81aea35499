package cmd

import (
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renew"
	"github.com/certctl/certctl/phases/signer"
)

// addCompletions makes cobra's `certctl completion bash|zsh|fish|powershell`
// part of the tree (so that docs/reference lists it, and strict, called
// after, makes `completion foo` an error too) and registers the
// dynamic completions every command shares: the -o values each command
// accepts, the --encryption-algorithm values, renew's
// --new-request=NAME,... and --signer-name NAME=SIGNER, folders only for
// the -dir flags, and no file names where the command takes no further
// argument (completeArgs). Certificate names come from each command's
// ValidArgs (the inventory), backup names from restore's
// ValidArgsFunction (completeBackups), renew's from completeRenewNames,
// CSR names from the API server (completeCSRs).
func addCompletions(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	eachCommand(root, func(c *cobra.Command) {
		if c.Runnable() && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = completeArgs(c.ValidArgs)
			c.ValidArgs = nil
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if strings.HasSuffix(f.Name, "-dir") && f.Value.Type() == "string" {
				_ = c.MarkFlagDirname(f.Name)
			}
		})
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
		if c.Flags().Lookup("new-request") != nil {
			_ = c.RegisterFlagCompletionFunc("new-request", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				return withPrefix(renew.NewRequestCompletions(toComplete), toComplete), cobra.ShellCompDirectiveNoFileComp
			})
		}
		if c.Flags().Lookup("signer-name") != nil {
			_ = c.RegisterFlagCompletionFunc("signer-name", completeSignerName)
		}
	})
}

// completeArgs completes a command's arguments: names (cobra's ValidArgs,
// which cobra offers for the first argument only, and then the shell's
// file names), while the command takes another argument; nothing, not
// file names, once it takes no more (`init-phase certs apiserver <TAB>`,
// `certs list <TAB>`). A command without names takes file names.
func completeArgs(names []string) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if c.Args != nil && c.Args(c, append(slices.Clip(args), toComplete)) != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if len(names) == 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return withPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeCSRs completes the CSR names of approve and deny (state
// "Pending") and sign ("Approved") from the API server that api's flags
// reach (signer.CSRCompletions), while the command takes another name.
func completeCSRs(api *apiFlags, state string) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if c.Args != nil && c.Args(c, append(slices.Clip(args), toComplete)) != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return signer.CSRCompletions(c.Context(), api.connect, state, args, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeRenewNames completes renew's NAME... (renew.NameCompletions).
func completeRenewNames(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return withPrefix(renew.NameCompletions(args), toComplete), cobra.ShellCompDirectiveNoFileComp
}

// withPrefix is the names that start with prefix, as cobra filters
// ValidArgs.
func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
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
