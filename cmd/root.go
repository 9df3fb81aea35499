// Package cmd wires certctl's commands with cobra. It is the only package
// that knows about flags; the work is done by phases and pki.
package cmd

import (
	"io"
	"strings"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/debuglog"
)

// NewRootCommand returns the certctl command tree writing to out and errOut.
func NewRootCommand(out, errOut io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "certctl",
		Short: "Make, renew and check the certificates of a Kubernetes control-plane node",
		Long: dedent.Dedent(`
			certctl manages the whole lifecycle of the certificates of a kubeadm-style
			control-plane node: it makes the PKI with kubeadm's exact profiles, renews
			certificates from the on-disk CAs, through the certificates.k8s.io API or
			with an external CA, and never leaves a certificate that does not match
			its key, even when it is killed.

			certctl reads kubeadm's own configuration file (--config) and writes the
			same files, names and modes as kubeadm, so the two can be used on the
			same /etc/kubernetes.
		`),
		Example: examples(`
			  # Make every certificate and key of a new control-plane node
			  sudo certctl init-phase certs all --config kubeadm.yaml

			  # Then the kubeconfig files of admin, controller-manager, scheduler, kubelet
			  sudo certctl init-phase kubeconfig all --config kubeadm.yaml

			  # Keys and CSRs for an external CA instead of certificates
			  certctl init-phase certs all --use-csr --csr-dir ./csr --config kubeadm.yaml

			  # List what is on disk
			  certctl certs list
		`),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.AddCommand(newInitPhaseCommand(), newCertsCommand(), newRenewCommand(), newRestoreCommand(), newInstallTimerCommand(), newCheckExpirationCommand(), newConfigCommand(), newSignerCommand(), newCACommand(), newSignCommand(), newApproveCommand(), newDenyCommand(), newVersionCommand())
	addCompletions(root)
	strict(root)
	// klog's -v: certctl's debug lines (internal/debuglog) and client-go's,
	// on stderr.
	root.PersistentFlags().VarP(debuglog.NewLevel(), "v", "v", "number for the log level verbosity: 2 what certctl reads and decides, 4 each file, 6 the API requests, 8 their bodies (klog's -v)")
	return root
}

// groupCommand is a command that only groups subs: strict makes it print
// its help, or refuse an unknown subcommand.
func groupCommand(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short}
	c.AddCommand(subs...)
	return c
}

// examples formats an Example text as cobra shows examples: dedented, then
// indented by two spaces.
func examples(s string) string {
	lines := strings.Split(strings.Trim(dedent.Dedent(s), "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}
