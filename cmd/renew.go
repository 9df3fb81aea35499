package cmd

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renew"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// renewOptions binds the flags to the options of the workflow.
type renewOptions struct {
	renew.Request
	cluster clusterFlags
}

func newRenewCommand() *cobra.Command {
	o := &renewOptions{}
	c := &cobra.Command{
		Use:   "renew all|NAME...",
		Short: "Renew certificates from the CAs on disk, crash-safely, with a backup",
		Long: dedent.Dedent(`
			Renew the leaf certificates of a control-plane node and the client
			certificates embedded in its kubeconfig files, signed by the CAs in
			--cert-dir, as `+"`kubeadm certs renew`"+` does, but safely on a live node:

			- The existing certificate is authoritative: its CN, O, SANs and key
			  usages are kept. A new key is made with the configured algorithm
			  (encryptionAlgorithm of --config, or --encryption-algorithm; without
			  either, the current key's algorithm); --reuse-key keeps the key.
			  The validity is certificateValidityPeriod, cut to the CA's expiry.
			- In a kubeconfig file only the client certificate and key change, and
			  the CA data is refreshed from ca.crt; every other field stays.
			- Every file is read and checked before anything is written: a corrupt
			  file, a key that does not match, a certificate from another CA, an
			  expired CA or a missing CA key (external CA) fails the run and
			  leaves every file as it was.
			- The old files are saved in certctl-backups/TIMESTAMP beside the
			  certificate folder (--no-backup skips it), and all new files replace
			  the old ones in one transaction: if certctl is killed, the next
			  certctl command finishes or discards it, so a certificate never
			  ends up with a key that does not match.

			CAs are not renewed. With "all", a missing file is reported as
			MISSING and skipped (but finding none of them is an error: the
			folders are wrong); a named one is an error. kubelet.conf is left to
			the kubelet, which rotates its own client certificate.

			At the end certctl lists the components to restart; with
			--restart-control-plane it makes the kubelet restart them (an
			annotation in their static pod manifests) and checks that each is a
			new process serving its new certificate.

			For cron and systemd timers (docs/cron.md): --if-expires-within,
			--jitter, --keep-backups, --quiet and -o json below; a second certctl
			that writes waits up to --lock-timeout, then fails naming its PID; a
			restart that fails is retried by the next --restart-control-plane run.
			Exit statuses: docs/exit-codes.md (2: nothing to do; 5: "all" renewed
			what the CAs on the node can sign and skipped the certificates of an
			external CA, whose CA key is not here: renew those with --use-api or
			--use-csr; 6: --use-api installed what was issued, but some CSRs were
			denied, failed or not issued before --timeout).

			With --use-api the new certificates come from the cluster's
			certificates API instead of the CA keys on disk: one CSR per
			certificate, approved and issued in the cluster, then checked and
			installed the same way, in one transaction with a backup.

			With --use-csr (external CA, docs/external-ca.md) nothing is renewed:
			a new key, a CSR and a request file saying what to sign (CA, usages,
			SANs, validity) are written per certificate into --csr-dir; a
			kubeconfig's key goes in a kubeconfig of its own, as with kubeadm.
			Install what the CA signs with `+"`certctl certs import`"+`.

			With --dry-run every file is read and checked as for a renewal, and
			the plan is printed: what would be renewed, the files it would
			replace, and what would issue it (the CA on disk, the certificates
			API and its signer, or CSR files for an external CA). No key, CSR or
			backup is made, nothing is restarted, no lock is taken, and nothing
			is written. With -o json|yaml the plan is the summary RenewalSummary,
			with dryRun: true.
		`) + "\nNames: " + strings.Join(renewal.Names(), ", ") + "\n" +
			"\nSigner name of each certificate's CSR with --use-api (change with --signer-name):\n" + renew.SignerNamesHelp(),
		Example: examples(strings.ReplaceAll(`
			# Everything, with kubeadm's configuration file for the key algorithm and validity
			sudo certctl renew all --config kubeadm.yaml

			# Only a serving certificate and a kubeconfig
			sudo certctl renew TWO

			# Another layout, keeping the current keys
			sudo certctl renew all --reuse-key --cert-dir /srv/k8s/pki --kubeconfig-dir /srv/k8s

			# Through the cluster's certificates API, when the CA keys are not on the node
			sudo certctl renew TWO --use-api

			# What would be renewed, and by what, without writing anything
			sudo certctl renew all --dry-run

			# Apply SANs added to the configuration (after check-expiration reports san-drift)
			sudo certctl renew all --update-sans --config kubeadm.yaml

			# Daily from cron or a timer: what expires within 30 days, then restart what uses it
			certctl renew all --if-expires-within 720h --restart-control-plane --keep-backups 10 --quiet
		`, "TWO", renewal.Names()[1]+" "+pki.Kubeadm().ReadAtEachUse()[0])),
		ValidArgsFunction: completeRenewNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, args)
		},
	}
	fs := c.Flags()
	o.cluster.addSubsetTo(fs, "config", "cert-dir", "encryption-algorithm", "certificate-validity")
	// Renewal's default is not init's: see renewal.Options.KeyAlgorithm.
	alg := fs.Lookup("encryption-algorithm")
	alg.DefValue = ""
	alg.Usage = "key algorithm of the new keys: " + strings.Join(config.EncryptionAlgorithms, ", ") +
		" (encryptionAlgorithm); default: the --config file's, else each key's current algorithm"
	o.cluster.addKubeconfigDirTo(fs, &o.KubeconfigDir, "folder of the kubeconfig files")
	fs.BoolVar(&o.ReuseKey, "reuse-key", false, "keep the current private keys and sign their public keys again")
	fs.BoolVar(&o.UpdateSANs, "update-sans", false, "give the certificates the SANs the configuration asks for (--config), instead of keeping their current ones")
	fs.BoolVar(&o.DropSANs, "drop-sans", false, "with --update-sans, drop the current SANs the configuration no longer asks for")
	fs.BoolVar(&o.NoBackup, "no-backup", false, "do not save the old files in certctl-backups/ beside the certificate folder")
	fs.BoolVar(&o.DryRun, "dry-run", false, "check everything and print what would be renewed, and by which issuer, without writing, requesting or restarting anything")
	addUseAPIFlags(fs, &o.Request)
	o.cluster.readWith(&o.APIOpts.Kubeconfig, &o.APIOpts.Context)
	addLockFlag(fs, &o.LockTimeout)
	addCronFlags(fs, &o.Request)
	fs.BoolVar(&o.UseCSR, "use-csr", false, "write a new key, a CSR and a request file (what to sign) per certificate for an external CA, into --csr-dir, instead of renewing; install the signed certificates with certctl certs import")
	fs.StringVar(&o.CSRDir, "csr-dir", "", "with --use-csr: folder for the keys, CSRs and request files (it mirrors the certificate folder)")
	return c
}

func (o *renewOptions) run(cmd *cobra.Command, args []string) error {
	cmd.Flags().Visit(func(f *pflag.Flag) { o.Given = append(o.Given, f.Name) })
	o.APIOpts.UserAgent = userAgent()
	o.ConfigFile, o.Args = o.cluster.configFile, args
	o.Out, o.ErrOut = cmd.OutOrStdout(), cmd.ErrOrStderr()
	o.Settings = func() (*config.Cluster, config.Source, error) {
		o.cluster.quiet = o.Quiet
		c, err := o.cluster.loadForRenewal(cmd, cmd.ErrOrStderr())
		return c, o.cluster.source, err
	}
	return o.Main(cmd.Context())
}
