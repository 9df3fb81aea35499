package cmd

import (
	"crypto/rand"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/debuglog"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/external"
	"github.com/certctl/certctl/pki"
)

// certsImportOptions bind the flags to the workflow's options.
type certsImportOptions struct {
	external.ImportOptions
	report      reportFlags
	lockTimeout time.Duration
}

func newCertsImportCommand() *cobra.Command {
	o := &certsImportOptions{}
	c := &cobra.Command{
		Use:   "import --csr-dir DIR",
		Short: "Check the certificates an external CA signed, then install them crash-safely, with a backup",
		Long: dedent.Dedent(`
			Install the certificates an external CA signed for the CSRs that
			` + "`certctl renew --use-csr`" + ` or ` + "`certctl init-phase certs --use-csr`" + `
			wrote into --csr-dir (and the kubeconfig CSRs of ` + "`kubeadm certs generate-csr`" + `).

			Each certificate, NAME.crt next to NAME.csr, is checked first: it must
			match NAME.key, chain to its CA in --cert-dir (ca.crt, front-proxy-ca.crt
			or etcd/ca.crt: on a first installation put them there first; the CA
			keys are not needed), carry the subject, SANs, key usages and extended
			key usages that NAME.request.json asks for (without one, what NAME.csr
			asks for and kubeadm's usages), not be a CA, and be valid now. One
			that names the node (etcd's, ` + pki.KubeletKubeconfig + `'s, the API server's SANs) must
			name this node: the one the certificates in force name, and with
			--config its nodeRegistration.name, also on a first installation.

			A certificate that fails is refused with the precise reason, and
			nothing of it is installed. The others are installed together, with
			their keys, in one transaction: the old files are saved in
			certctl-backups/TIMESTAMP beside the certificate folder first, and a
			certctl killed halfway leaves all old files or all new ones. In a
			kubeconfig file only the client certificate and key, and the CA data,
			change. A certificate already installed is left as it is.

			-o json|yaml prints, at the end, the schema output.certctl.io/v1
			ImportSummary (docs/external-ca.md) instead of one line per certificate.

			Exit status: 0 everything found was installed; 2 a certificate was
			refused (the others were installed); 1 an error, nothing installed.
		`),
		Example: examples(`
			# After the CA operator signed what ` + "`certctl renew all --use-csr --csr-dir ./csr`" + ` wrote
			sudo certctl certs import --csr-dir ./csr

			# See what would be installed, and what would be refused and why
			certctl certs import --csr-dir ./csr --dry-run --cert-dir /srv/k8s/pki --kubeconfig-dir /srv/k8s
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	fs := c.Flags()
	fs.StringVar(&o.CSRDir, "csr-dir", "", "folder of the keys, CSRs, request files and signed certificates (required)")
	o.report.addTo(fs, "folder of the certificates, where the CA certificates are (certificatesDir of --config)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "check everything and print what would be installed and what would be refused, without writing")
	fs.IntVar(&o.KeepBackups, "keep-backups", 0, "after an import that saved old files, keep only this many backups in certctl-backups/, removing the oldest (0: keep all)")
	addLockFlag(fs, &o.lockTimeout)
	return c
}

func (o *certsImportOptions) run(cmd *cobra.Command) error {
	f, err := output.Parse(o.report.output)
	if err != nil {
		return err
	}
	// --config gives the certificate folder and the node's name.
	cluster, err := o.report.folders.settings(cmd, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	o.CertDir, o.NodeName, o.ConfigFile = cluster.CertificatesDir, cluster.NodeName, o.report.folders.cluster.configFile
	o.KubeconfigDir, o.Now, o.Rand = o.report.folders.kubeconfigDir, time.Now, rand.Reader
	debuglog.Debugf(debuglog.Decisions, "importing from %s into %s and %s", o.CSRDir, o.CertDir, o.KubeconfigDir)
	return external.RunImport(cmd.Context(), o.ImportOptions, f, o.lockTimeout, cmd.OutOrStdout(), cmd.ErrOrStderr())
}
