package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// strict makes every command of the tree below root refuse what it does not
// know, with a non-zero exit: cobra prints a parent command's help and exits
// 0 for any argument (`certctl certs rotate`), so a cron line written from
// kubeadm habit would "succeed" and do nothing. A parent command given no
// argument still prints its help, as kubectl's do.
func strict(root *cobra.Command) {
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	strictHelp(root)
	eachCommand(root, func(c *cobra.Command) {
		if c.Runnable() && c.Args != nil {
			c.Args = withUsage(c.Args)
		}
		if c.Runnable() && c.PreRunE == nil && c.PreRun == nil {
			// cobra checks the required flags after PreRunE, with an
			// error that says not where the help is, as the others do.
			c.PreRunE = func(c *cobra.Command, _ []string) error {
				if err := c.ValidateRequiredFlags(); err != nil {
					return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
				}
				return nil
			}
		}
		if c.HasSubCommands() && !c.Runnable() {
			c.Args = cobra.ArbitraryArgs
			c.SuggestionsMinimumDistance = 2
			c.RunE = func(c *cobra.Command, args []string) error {
				if len(args) == 0 {
					return c.Help()
				}
				return unknownSubcommand(c, args[0])
			}
		}
	})
}

// strictHelp makes `certctl help TOPIC...` refuse a topic that names no
// command, as `certctl TOPIC...` does: the parents take any argument
// (strict), so cobra's help found the parent and printed its help, with
// status 0 and no word of the typo.
func strictHelp(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	help, _, err := root.Find([]string{"help"})
	if err != nil || help == root || help.Run == nil {
		return
	}
	run := help.Run
	help.Run = nil
	help.RunE = func(c *cobra.Command, args []string) error {
		if target, rest, err := root.Find(args); err == nil && len(rest) > 0 && target.HasSubCommands() {
			return unknownSubcommand(target, rest[0])
		}
		run(c, args)
		return nil
	}
}

// withUsage adds the usage line and where the help is to the errors of
// args: cobra's own ("accepts 1 arg(s), received 0") say neither what to
// give nor where to look.
func withUsage(args cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, a []string) error {
		err := args(c, a)
		if err == nil || strings.HasSuffix(err.Error(), "--help')") {
			return err
		}
		return fmt.Errorf("%w: usage: %s (see '%s --help')", err, c.UseLine(), c.CommandPath())
	}
}

// eachCommand calls f with c, then with each command below it.
func eachCommand(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		eachCommand(sub, f)
	}
}

// unknownSubcommand is the error for `PARENT arg` when arg names no
// subcommand of PARENT: the valid ones, and the closest if it looks like a typo.
func unknownSubcommand(c *cobra.Command, arg string) error {
	var valid []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			valid = append(valid, sub.Name())
		}
	}
	hint := ""
	if s := closest(c, arg); s != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", s)
	}
	return fmt.Errorf("unknown command %q for %q%s: valid commands are %s (see '%s --help')",
		arg, c.CommandPath(), hint, strings.Join(valid, ", "), c.CommandPath())
}

// closest is cobra's suggestion for arg under c that is the fewest edits
// away: cobra lists its suggestions in the commands' order (`renw` is 2
// edits from deny, 1 from renew), so each distance up to c's is asked in
// turn.
func closest(c *cobra.Command, arg string) string {
	most := c.SuggestionsMinimumDistance
	defer func() { c.SuggestionsMinimumDistance = most }()
	for d := 1; d <= max(most, 2); d++ { // cobra's default is 2
		c.SuggestionsMinimumDistance = d
		if s := c.SuggestionsFor(arg); len(s) > 0 {
			return s[0]
		}
	}
	return ""
}

// kubeadmSpelling returns c, a top-level command, for use under a parent
// where kubeadm has it (`kubeadm certs renew` is certctl's `renew`): the same
// command, flags and behaviour, with a note in its short help.
func kubeadmSpelling(c *cobra.Command, parent string) *cobra.Command {
	c.Short += fmt.Sprintf(" (kubeadm's spelling of `certctl %s`)", c.Name())
	c.Example = strings.ReplaceAll(c.Example, "certctl "+c.Name(), "certctl "+parent+" "+c.Name())
	return c
}
