package cmd

import (
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/debuglog"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/expiration"
	"github.com/certctl/certctl/phases/initphase"
)

func newCertsCommand() *cobra.Command {
	return groupCommand("certs", "Inspect the certificates of a control-plane node",
		newCertsListCommand(), newCertsImportCommand(), newGenerateCSRCommand(),
		newCertsCertificateKeyCommand(), newCertsUploadCommand(), newCertsDownloadCommand(),
		kubeadmSpelling(newRenewCommand(), "certs"), kubeadmSpelling(newCheckExpirationCommand(), "certs"))
}

// newGenerateCSRCommand is `kubeadm certs generate-csr`'s spelling of
// `certctl init-phase certs all --use-csr` and `certctl init-phase
// kubeconfig all --use-csr`, in one run.
func newGenerateCSRCommand() *cobra.Command {
	o := &initOptions{}
	c := &cobra.Command{
		Use:   "generate-csr --csr-dir DIR",
		Short: "Write keys and CSRs for an external CA (kubeadm's spelling of `certctl init-phase certs|kubeconfig all --use-csr`)",
		Long: dedent.Dedent(`
			Write, for each certificate and kubeconfig file of a control-plane
			node, a private key and a CSR into --csr-dir for an external CA to
			sign, as ` + "`kubeadm certs generate-csr`" + ` does: ` + "`certctl init-phase certs all --use-csr`" + `
			and ` + "`certctl init-phase kubeconfig all --use-csr`" + ` in one run, with the same
			flags. It ends with the command that installs what the CA signs
			into --cert-dir and --kubeconfig-dir.
		`),
		Example: examples(`
			certctl certs generate-csr --csr-dir ./csr --config kubeadm.yaml
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return initphase.GenerateCSR(cmd.Context(), o.load(cmd), o.options(cmd, "certs"))
		},
	}
	o.addTo(c.Flags(), "folder of the kubeconfig files, for the import command printed at the end (and, without --config, its admin.conf reads the kubeadm-config ConfigMap)")
	_ = c.Flags().MarkHidden("use-csr") // always on
	return c
}

func newCertsListCommand() *cobra.Command {
	var report reportFlags
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
			with what to do, and so is a folder of these files (the kubelet's too)
			that group or others may write. With etcd.external in --config it lists, as
			check-expiration does, that etcd's client certificate and CA instead
			of the etcd certificates kubeadm makes for a local etcd. It only reads; finding none of the files is an error (the wrong folders).
		`),
		Example: examples(`
			  certctl certs list --cert-dir /etc/kubernetes/pki --kubeconfig-dir /etc/kubernetes
			  certctl certs list -o wide
			  certctl certs list -o jsonpath='{range .items[*]}{.name}{"\t"}{.expirationDate}{"\n"}{end}'
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := output.Parse(report.output)
			if err != nil {
				return err
			}
			cluster, err := report.folders.settings(cmd, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			debuglog.Debugf(debuglog.Decisions, "listing %s and %s", cluster.CertificatesDir, report.folders.kubeconfigDir)
			return expiration.List(cmd.Context(), cluster.CertificatesDir, report.folders.kubeconfigDir, cluster.External(), time.Now(), f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	report.addTo(c.Flags(), "folder of the certificates (certificatesDir of --config)")
	return c
}
