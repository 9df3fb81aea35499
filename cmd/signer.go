package cmd

import (
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/certctl/certctl/internal/debuglog"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/phases/signer"
)

func newSignerCommand() *cobra.Command {
	c := groupCommand("signer", "Turn kube-controller-manager's signer on or off, or run certctl's signer for the rest",
		newSignerEnableCommand(), newSignerDisableCommand(), newSignerRunCommand(), newSignerStatusCommand())
	c.Long = dedent.Dedent(`
		A cluster signs nothing until kube-controller-manager has the cluster CA's
		files (--cluster-signing-cert-file, --cluster-signing-key-file), and even
		then its signer issues only client and kubelet certificates with the
		cluster CA. "signer enable" and "signer disable" edit its static pod
		manifest; "signer run" signs the control-plane certificates it cannot
		(API server serving, front-proxy, etcd) under certctl's signer names:
	`) + "\n" + signer.NamesHelp()
	return c
}

func newSignerStatusCommand() *cobra.Command {
	var (
		report   reportFlags
		manifest string
	)
	c := &cobra.Command{
		Use:   "status",
		Short: "Show whether kube-controller-manager's signer is on, with which CA, and which signer names this node can sign",
		Long: dedent.Dedent(`
			Say what the node itself shows about signing: whether
			kube-controller-manager's manifest turns its built-in signer on (a CA
			given by --cluster-signing-cert-file and --cluster-signing-key-file or
			the per-signer pairs, and the csrsigning controller not turned off by
			--controllers), with which files, for which of its signer names; and
			for each of certctl's signer names, the CA that signs it and whether
			its certificate and key are in --cert-dir, so that a ` + "`certctl signer run`" + `
			here can sign ("ready"; "ca-unusable", with a problem line, when
			signer run would refuse them). Whether a signer runs is for the
			cluster to say: this reads files only.

			-o wide adds the CA files and the certificates each signer name issues;
			-o json|yaml prints the schema output.certctl.io/v1 SignerStatus
			(docs/signer.md).
		`),
		Example: examples(`
			sudo certctl signer status
			certctl signer status -o jsonpath='{.builtIn.enabled}'
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, certDir, err := report.parse(cmd)
			if err != nil {
				return err
			}
			debuglog.Debugf(debuglog.Files, "reading %s and the CA files in %s", manifest, certDir)
			s, err := signer.Status(manifest, certDir, time.Now())
			if err != nil {
				return err
			}
			return s.Print(cmd.OutOrStdout(), f)
		},
	}
	report.addTo(c.Flags(), "folder of the CAs (certificatesDir of --config)")
	addManifestFlag(c.Flags(), &manifest)
	return c
}

func addManifestFlag(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "manifest", signer.DefaultManifest, "kube-controller-manager's static pod manifest")
}

// addManifestEditFlags adds the flags of signer enable and disable, bound
// to the workflow's options e.
func addManifestEditFlags(fs *pflag.FlagSet, e *signer.ManifestEdit) {
	addManifestFlag(fs, &e.Manifest)
	fs.StringVar(&e.BackupDir, "backup-dir", "", "folder for a copy of the old manifest (default: MANIFESTDIR/../tmp/certctl-backup-manifests-TIME; never the manifest folder, whose files the kubelet runs)")
	fs.BoolVar(&e.DryRun, "dry-run", false, "print the change as a unified diff and write nothing")
	addLockFlag(fs, &e.LockTimeout)
}

type signerEnableOptions struct {
	signer.ManifestEdit
	folders   folderFlags
	duration  time.Duration
	perSigner bool
}

func newSignerEnableCommand() *cobra.Command {
	o := &signerEnableOptions{}
	c := &cobra.Command{
		Use:   "enable",
		Short: "Turn on kube-controller-manager's built-in signer with the cluster CA",
		Long: dedent.Dedent(`
			Edit kube-controller-manager's static pod manifest so that its signer runs
			with the cluster CA (CERTDIR/ca.crt and CERTDIR/ca.key):

			- set --cluster-signing-cert-file and --cluster-signing-key-file, replacing
			  existing values, including the empty ones kubeadm writes in external-CA
			  mode, and dropping duplicates; with --per-signer, set the per-signer
			  pairs (kubelet-serving, kubelet-client, kube-apiserver-client) and empty
			  the general pair instead: kube-controller-manager refuses both set;
			- enable the csrsigning controller if --controllers turned it off;
			- add a read-only hostPath volume and mount for CERTDIR if the pod has none.

			Everything else is kept. Before touching anything it checks that the CA
			certificate and key exist, match, and are a valid CA. The old manifest is
			copied to --backup-dir, and the new one is written atomically through a
			dot-named temporary file, which the kubelet ignores. A second run changes
			no byte. The kubelet restarts kube-controller-manager on the new manifest.
		`),
		Example: examples(`
			# See what would change
			sudo certctl signer enable --dry-run

			# Turn the signer on, certificates valid 30 days at most
			sudo certctl signer enable --cluster-signing-duration 720h
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			certDir, err := o.folders.certDir(cmd, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return signer.Enable(cmd.Context(), manifestEdit(cmd, o.ManifestEdit), certDir, o.perSigner, o.duration)
		},
	}
	addManifestEditFlags(c.Flags(), &o.ManifestEdit)
	o.folders.addCertDirTo(c.Flags(), "folder of the cluster CA, ca.crt and ca.key (certificatesDir of --config)")
	c.Flags().DurationVar(&o.duration, "cluster-signing-duration", 0, "set --cluster-signing-duration, the longest validity the signer gives (default: keep the manifest's, else kube-controller-manager's 8760h)")
	c.Flags().BoolVar(&o.perSigner, "per-signer", false, "set the per-signer flags instead of --cluster-signing-cert-file/--cluster-signing-key-file")
	return c
}

func newSignerDisableCommand() *cobra.Command {
	var e signer.ManifestEdit
	c := &cobra.Command{
		Use:   "disable",
		Short: "Turn off kube-controller-manager's built-in signer",
		Long: dedent.Dedent(`
			Edit kube-controller-manager's static pod manifest the way kubeadm writes
			it in external-CA mode: --cluster-signing-cert-file and
			--cluster-signing-key-file become empty, the per-signer flags and the
			volumes "signer enable" added are removed. --cluster-signing-duration is
			kept; it does nothing while the signer is off. It reverts "signer enable"
			on a manifest in kubeadm's external-CA shape byte for byte. Backup, atomic
			write and --dry-run work as for "signer enable".
		`),
		Example: examples(`
			sudo certctl signer disable --dry-run
			sudo certctl signer disable
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return manifestEdit(cmd, e).Apply(cmd.Context(), "disable", manifests.DisableSigner)
		},
	}
	addManifestEditFlags(c.Flags(), &e)
	return c
}

// manifestEdit is the manifest change e, the flags, ask for.
func manifestEdit(cmd *cobra.Command, e signer.ManifestEdit) signer.ManifestEdit {
	e.Now, e.Out = time.Now(), cmd.OutOrStdout()
	return e
}
