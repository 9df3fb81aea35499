package cmd

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/carotate"
	"github.com/certctl/certctl/phases/config"
)

func newCACommand() *cobra.Command {
	return groupCommand("ca", "Rotate a CA or the service-account key pair, in stages (docs/ca-rotation.md)",
		newCARotateCommand(), newCAStatusCommand())
}

type caRotateOptions struct {
	carotate.Options
	cluster    clusterFlags
	api        apiFlags
	nodeOnly   bool
	clusterOpt carotate.ClusterOptions
}

func newCARotateCommand() *cobra.Command {
	o := &caRotateOptions{}
	c := &cobra.Command{
		Use:   "rotate " + strings.Join(carotate.Names(), "|"),
		Short: "Run the next stage of a CA rotation: trust, reissue, finish (or --abort)",
		Long: dedent.Dedent(`
			Rotate a CA of the node, or the service-account key pair, one stage per
			call, each written with its record in one transaction (a kill leaves
			the stage before or after; the next call resumes) and verified:

			- trust: a new CA (or --new-ca-cert/--new-ca-key); every trust file
			  (ca.crt, front-proxy-ca.crt, etcd/ca.crt, sa.pub, the kubeconfigs'
			  CA data) holds the old then the new; the old one still signs.
			- reissue: every certificate and kubeconfig of the CA re-issued by the
			  new CA; the bundles hold the new then the old; the new one signs.
			- finish: the old CA leaves every bundle, once no certificate on disk
			  is from it (and, for sa, --max-token-lifetime after reissue).

			--abort, before finish, goes back one stage (from reissue the
			certificates are re-issued by the old CA). Between stages the
			components that read the files must restart: with
			--restart-control-plane certctl restarts them one at a time;
			otherwise restart them and pass --restarted.

			With several control-plane nodes, each node keeps its stage in the
			ConfigMap kube-system/certctl-ca-rotation-NAME: the first node's
			trust puts the new CA, encrypted with a certificate key it prints,
			in the Secret of that name, and the other nodes join with
			--certificate-key. A stage that would break another node is
			refused: reissue until every node trusts the new CA (and, for ca,
			every namespace's kube-root-ca.crt holds it), finish while a node
			signs with or serves a certificate of the old CA. A node removed
			from the cluster mid-rotation leaves it with --forget-node NODE,
			run on another node. --node-only
			rotates this node alone, without the API server. See
			docs/ca-rotation.md.
		`),
		Example: examples(`
			# One stage at a time, restarting the static pods after each
			sudo certctl ca rotate ca --restart-control-plane
			sudo certctl ca rotate ca --restart-control-plane
			sudo certctl ca rotate ca --restart-control-plane

			# Another control-plane node joins the rotation with the key the first printed
			sudo certctl ca rotate ca --certificate-key KEY --restart-control-plane

			# Every stage of the etcd CA at once
			sudo certctl ca rotate etcd-ca --all-stages --restart-control-plane

			# A control-plane node removed mid-rotation: the others stop waiting for it
			sudo certctl ca rotate ca --forget-node cp-3

			# Where it is, what still uses the old CA, what to run next
			sudo certctl ca status
		`),
		Args:      cobra.ExactArgs(1),
		ValidArgs: carotate.Names(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, args[0])
		},
	}
	fs := c.Flags()
	o.cluster.addSubsetTo(fs, "config", "cert-dir", "node-name", "encryption-algorithm", "certificate-validity", "ca-certificate-validity")
	fs.Lookup("encryption-algorithm").DefValue = ""
	fs.Lookup("encryption-algorithm").Usage = "key algorithm of the new CA's key: " + strings.Join(config.EncryptionAlgorithms, ", ") + "; default: the --config file's, else the old key's"
	o.cluster.addKubeconfigDirTo(fs, &o.KubeconfigDir, "folder of the kubeconfig files")
	fs.StringVar(&o.ManifestDir, "manifest-dir", staticpods.DefaultManifestDir, "folder of the static pod manifests: kube-controller-manager's signing flags are edited there (ca), and components restarted from there")
	fs.StringVar(&o.NewCACert, "new-ca-cert", "", "the new CA's certificate, instead of a generated one (trust stage)")
	fs.StringVar(&o.NewCAKey, "new-ca-key", "", "the new CA's key, with --new-ca-cert (sa: the new private key, alone)")
	fs.StringVar(&o.To, "to", "", "run the stages up to this one: "+strings.Join(carotate.Stages, ", ")+" (needs --restart-control-plane)")
	fs.BoolVar(&o.AllStages, "all-stages", false, "run every stage up to finish (--to finish)")
	fs.BoolVar(&o.Abort, "abort", false, "go back one stage towards the old CA")
	fs.BoolVar(&o.Force, "force", false, "finish although a certificate on disk is still from the old CA, or sa tokens of the old key may be valid; with --forget-node, forget a node that still has a Node object")
	fs.BoolVar(&o.Restarted, "restarted", false, "the components the last stage named were restarted (sa at reissue: records when, which finish waits --max-token-lifetime from, and stops)")
	fs.DurationVar(&o.MaxTokenLifetime, "max-token-lifetime", carotate.DefaultMaxTokenLifetime, "sa: how long a service-account token of the old key may be used after the restarts of reissue; finish waits that long")
	fs.BoolVar(&o.Restart, "restart-control-plane", false, "restart the static pods that read the changed files after each stage, one at a time, and check that they serve their new certificates")
	fs.DurationVar(&o.RestartTimeout, "restart-timeout", staticpods.DefaultTimeout, "how long to wait for each restarted component, with --restart-control-plane")
	fs.BoolVar(&o.DryRun, "dry-run", false, "read and check what the next stage needs, and write nothing")
	fs.BoolVar(&o.nodeOnly, "node-only", false, "rotate this node alone: no cluster record, no Secret, no check of the other control-plane nodes, no kubeadm-config ConfigMap (settings from --config, else the certificates), and --restart-control-plane takes no restart Lease (etcd still waits for its other members' quorum) (one node, or the API server down)")
	o.api.addTo(fs, false, 0, 0)
	o.cluster.readWith(&o.api.kubeconfig, &o.api.context)
	fs.Lookup("kubeconfig").Usage = kubeclient.KubeconfigHelp(true)
	fs.StringVar(&o.clusterOpt.CertificateKey, "certificate-key", "", "hex AES-256 key of the new CA in Secret kube-system/certctl-ca-rotation-NAME: the first node makes and prints one when empty, the other nodes pass it to get the new CA; - reads it from standard input, where ps does not show it (on a terminal, asked for and not echoed)")
	fs.DurationVar(&o.clusterOpt.WaitTimeout, "wait-timeout", carotate.DefaultWaitTimeout, "how long reissue of ca waits for every namespace's kube-root-ca.crt to hold both CAs")
	fs.DurationVar(&o.clusterOpt.RootCASettle, "root-ca-settle", carotate.DefaultRootCASettle, "reissue of ca, first node: once every kube-root-ca.crt holds both CAs, how long to wait for the kubelets to update the pods' copies")
	fs.StringVar(&o.clusterOpt.ForgetNode, "forget-node", "", "remove this node, gone from the cluster mid-rotation, from the rotation's cluster record, and make no stage: no file of this node changes (refused while it has a Node object, unless --force)")
	addLockFlag(fs, &o.LockTimeout)
	_ = c.RegisterFlagCompletionFunc("to", cobra.FixedCompletions(carotate.Stages, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func (o *caRotateOptions) run(cmd *cobra.Command, name string) error {
	if o.nodeOnly {
		for _, f := range []string{"certificate-key", "kubeconfig", "context", "wait-timeout", "root-ca-settle", "forget-node"} {
			if cmd.Flags().Changed(f) {
				return fmt.Errorf("--%s is for the cluster-wide rotation, which --node-only turns off: drop one of them", f)
			}
		}
	}
	opts := o.Options
	if !o.nodeOnly {
		opts.Cluster = &o.clusterOpt
	}
	// Before the settings, whose ConfigMap read can wait for an API server.
	if err := cmp.Or(opts.Check(name), kubeclient.CheckFlag(o.api.kubeconfig)); err != nil {
		return err
	}
	if o.nodeOnly { // the settings without the API server too
		o.cluster.noConfigMap = "--node-only"
	}
	cluster, err := o.cluster.loadForRenewal(cmd, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	opts.Now, opts.Rand, opts.Out, opts.Warn = time.Now, rand.Reader, cmd.OutOrStdout(), cmd.ErrOrStderr()
	opts.Rerun = rerunFlags(cmd, "config", "cert-dir", "node-name", "kubeconfig-dir", "manifest-dir", "kubeconfig", "context", "node-only", "max-token-lifetime")
	if !o.nodeOnly {
		opts.Cluster.In = cmd.InOrStdin()
		opts.Cluster.Connect = o.api.nodeConnect(o.KubeconfigDir)
	}
	opts = opts.WithSettings(cluster, o.cluster.source.Configured() || cmd.Flags().Changed("encryption-algorithm"), o.api.kubeconfig, o.api.context)
	_, err = carotate.Rotate(cmd.Context(), name, opts)
	return err
}

func newCAStatusCommand() *cobra.Command {
	var (
		report      reportFlags
		api         apiFlags
		maxLife     time.Duration
		nodeOnly    bool
		manifestDir string
	)
	c := &cobra.Command{
		Use:   "status",
		Short: "Show each CA's rotation stage, what is still from the old CA, and the next command",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := output.Parse(report.output)
			if err != nil {
				return err
			}
			if err := kubeclient.CheckFlag(api.kubeconfig); err != nil {
				return err
			}
			// The settings as ca rotate reads them, so that each next
			// command is one rotate takes: no etcd-ca with an external etcd.
			if nodeOnly {
				report.folders.cluster.noConfigMap = "--node-only"
			}
			cluster, err := report.folders.cluster.fileAndFlags(cmd, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			so := carotate.StatusOptions{CertDir: cluster.CertificatesDir, ExternalEtcd: cluster.ExternalEtcd, KubeconfigDir: report.folders.kubeconfigDir,
				ManifestDir: manifestDir, MaxTokenLifetime: maxLife, Now: time.Now(), ErrOut: cmd.ErrOrStderr(),
				Rerun: rerunFlags(cmd, "config", "cert-dir", "kubeconfig-dir", "manifest-dir", "kubeconfig", "context", "node-only", "max-token-lifetime")}
			if !nodeOnly {
				so.Connect = api.nodeConnect(report.folders.kubeconfigDir)
			}
			report, err := carotate.Status(cmd.Context(), so)
			if err != nil {
				return err
			}
			return report.Print(cmd.OutOrStdout(), f)
		},
	}
	report.addTo(c.Flags(), "")
	c.Flags().DurationVar(&maxLife, "max-token-lifetime", carotate.DefaultMaxTokenLifetime, "sa: how long a service-account token of the old key may be used after the restarts of reissue")
	c.Flags().BoolVar(&nodeOnly, "node-only", false, "this node's files only: do not read the rotations' cluster records, nor the kubeadm-config ConfigMap (settings from --config, else the certificates)")
	c.Flags().StringVar(&manifestDir, "manifest-dir", staticpods.DefaultManifestDir, "folder of the static pod manifests, as ca rotate's: a stage interrupted after it edited kube-controller-manager's manifest there is finished first, and the next commands carry it")
	api.addTo(c.Flags(), false, 0, 0)
	report.folders.cluster.readWith(&api.kubeconfig, &api.context)
	c.Flags().Lookup("kubeconfig").Usage = kubeclient.KubeconfigHelp(true)
	return c
}
