package cmd

import (
	"fmt"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/expiration"
	"github.com/certctl/certctl/pki"
)

func newCertsCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "certs",
		Short: "Inspect the certificates of a control-plane node",
	}
	c.AddCommand(newCertsListCommand(), newCertsImportCommand(), newGenerateCSRCommand(),
		kubeadmSpelling(newRenewCommand(), "certs"), kubeadmSpelling(newCheckExpirationCommand(), "certs"))
	return c
}

// newGenerateCSRCommand is `kubeadm certs generate-csr`'s spelling of
// `certctl init-phase certs all --use-csr`. kubeadm also writes the
// kubeconfig files' keys and CSRs; init-phase kubeconfig has no --use-csr
// yet, so this writes the certificates' and says so, and refuses
// --kubeconfig-dir, which would only matter for those.
func newGenerateCSRCommand() *cobra.Command {
	o := &initCertsOptions{useCSR: true}
	var kubeconfigDir string
	c := &cobra.Command{
		Use:   "generate-csr --csr-dir DIR",
		Short: "Write keys and CSRs for an external CA (kubeadm's spelling of `certctl init-phase certs all --use-csr`)",
		Long: dedent.Dedent(`
			Write, for each certificate of a control-plane node, a private key
			and a CSR into --csr-dir for an external CA to sign, as
			` + "`kubeadm certs generate-csr`" + ` does: ` + "`certctl init-phase certs all --use-csr`" + `, with the
			same flags. It ends with the command that installs what the CA signs.

			kubeadm also writes the keys and CSRs of the kubeconfig files: certctl
			does not yet (init-phase kubeconfig has no --use-csr); it says so at the
			end, and refuses --kubeconfig-dir.
		`),
		Example: examples(`
			certctl certs generate-csr --csr-dir ./csr --config kubeadm.yaml
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("kubeconfig-dir") {
				return fmt.Errorf("--kubeconfig-dir %s: the kubeconfig files' keys and CSRs are not supported yet (init-phase kubeconfig has no --use-csr); drop it to write the certificates' keys and CSRs, and make the kubeconfig files' with kubeadm certs generate-csr", kubeconfigDir)
			}
			if o.csrDir == "" {
				return fmt.Errorf("--csr-dir is required: the folder to write keys and CSRs to")
			}
			if err := o.run(cmd, "all"); err != nil || o.dryRun {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "[warning] the kubeconfig files' keys and CSRs were not written: certctl does not make them yet (kubeadm certs generate-csr does)")
			return nil
		},
	}
	o.initOptions.addTo(c.Flags())
	c.Flags().StringVar(&o.csrDir, "csr-dir", "", "folder for the keys and CSRs (required)")
	c.Flags().StringVar(&kubeconfigDir, "kubeconfig-dir", config.DefaultKubeconfigDir, "not supported yet: the kubeconfig files' keys and CSRs are not written")
	return c
}

// layout returns the certificate and kubeconfig inventory: names and file
// names only, which do not depend on the cluster's settings.
func layout() ([]pki.Profile, []pki.KubeconfigProfile) {
	inv := pki.Kubeadm()
	return inv.Certificates(pki.Node{}), inv.Kubeconfigs(pki.Node{})
}

func newCertsListCommand() *cobra.Command {
	var folders folderFlags
	var format string
	c := &cobra.Command{
		Use:   "list",
		Short: "List the certificates, keys and kubeconfig files on disk",
		Long: dedent.Dedent(`
			Print one line per certificate of the kubeadm inventory: its key
			algorithm, expiry, the CA that must have signed it, or MISSING, and the
			service-account key pair; -o wide adds its file, subject and SANs, -o
			json|yaml prints the schema output.certctl.io/v1 CertificateList. PROBLEMS checks each certificate as
			check-expiration does: that it chains to that CA, that its key matches,
			that a CA can sign; each problem is then spelled out below the table,
			with what to do. It only reads.
		`),
		Example: examples(`
			  certctl certs list --cert-dir /etc/kubernetes/pki --kubeconfig-dir /etc/kubernetes
			  certctl certs list -o wide
			  certctl certs list -o jsonpath='{range .items[*]}{.name}{"\t"}{.expirationDate}{"\n"}{end}'
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := output.Parse(format)
			if err != nil {
				return err
			}
			certDir, err := folders.certDir(cmd, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			debugf(vDecisions, "listing %s and %s", certDir, folders.kubeconfigDir)
			certs, kcs := layout()
			return expiration.List(cmd.Context(), certDir, folders.kubeconfigDir, certs, kcs, time.Now(), f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	folders.addTo(c.Flags(), "folder of the certificates (certificatesDir of --config)")
	c.Flags().StringVarP(&format, "output", "o", "text", output.Help())
	return c
}
