package cmd

import (
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
	c.AddCommand(newCertsListCommand(), newCertsImportCommand(),
		newCertsCertificateKeyCommand(), newCertsUploadCommand(), newCertsDownloadCommand(),
		kubeadmSpelling(newRenewCommand(), "certs"), kubeadmSpelling(newCheckExpirationCommand(), "certs"))
	return c
}

// layout returns the certificate and kubeconfig inventory: names and file
// names only, which do not depend on the cluster's settings.
func layout() ([]pki.Profile, []pki.KubeconfigProfile) {
	inv := pki.Kubeadm()
	return inv.Certificates(pki.Node{}), inv.Kubeconfigs(pki.Node{})
}

func newCertsListCommand() *cobra.Command {
	var certDir, kubeconfigDir, format string
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
			certs, kcs := layout()
			return expiration.List(cmd.Context(), certDir, kubeconfigDir, certs, kcs, time.Now(), f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	c.Flags().StringVar(&certDir, "cert-dir", config.DefaultCertificatesDir, "folder of the certificates")
	c.Flags().StringVar(&kubeconfigDir, "kubeconfig-dir", config.DefaultKubeconfigDir, "folder of the kubeconfig files")
	c.Flags().StringVarP(&format, "output", "o", "text", output.Help())
	return c
}
