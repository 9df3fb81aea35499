package cmd

import (
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/signer"
)

// signOptions binds the flags to the workflow's options.
type signOptions struct {
	signer.SignFiles
	api    apiFlags
	policy policyFlags
}

func newSignCommand() *cobra.Command {
	o := &signOptions{}
	c := &cobra.Command{
		Use:   "sign NAME",
		Short: "Sign one CSR with a CA of your own and write its certificate to the API",
		Long: dedent.Dedent(`
			Sign the CertificateSigningRequest NAME the way the Kubernetes
			documentation's manual signer does with cfssl, jq and
			"kubectl replace --raw .../status", in one step: read the request from the
			API, check its self-signature, sign it with --ca-cert/--ca-key, and write
			status.certificate through the /status subresource.

			The usages and the longest validity come from a cfssl-style signing
			configuration (--signing-config, its "default" or --profile), otherwise
			from the CSR's spec.usages and one year (for certctl's signer names, at
			most the cluster's certificateValidityPeriod); spec.expirationSeconds shortens
			the validity and the CA's expiry caps it. The issuance policy applies
			(docs/signer.md): never a CA, no weak key, explicit usages, at least an
			hour, no O=system:masters, no kubernetes.io signer name, and for a signer
			name of your own never a CA of the node's --cert-dir. A CSR for one of
			certctl's signer names must also fit the control-plane certificate it
			claims, as for signer run and approve: the cluster's control-plane Nodes
			and kubeadm-config ConfigMap, or --control-plane-node; and come from a
			requester certctl approve would accept (--requester-group,
			--requester-user), whoever approved it. A CSR that is not
			approved, or is denied, failed or already issued, is refused.

			The caller needs "sign" on the "signers" resource named by the CSR's
			signer name and "update" on certificatesigningrequests/status (see
			docs/signer.md).
		`),
		Example: examples(`
			# The documentation's example signer, with certctl
			certctl sign my-svc.my-namespace --ca-cert ca.pem --ca-key ca-key.pem \
			    --signing-config server-signing-config.json
		`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeCSRs(&o.api, "Approved"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := config.CheckCertDirFlag(o.policy.cluster.CertDir); err != nil {
				return err // before the CA is read, as every command with --cert-dir
			}
			o.Now, o.Out, o.ErrOut, o.CertDir = time.Now(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o.policy.cluster.CertDir
			o.policy.readConfigMapWith(&o.api)
			load := func() (*config.Cluster, error) { return o.policy.cluster.load(cmd, cmd.ErrOrStderr()) }
			return signer.SignWith(cmd.Context(), o.api.connect, load, o.policy.rules(), args[0], o.SignFiles)
		},
	}
	o.api.addTo(c.Flags(), false, 5, 10)
	o.policy.cluster.addSubsetTo(c.Flags(), "cert-dir", "node-name", "apiserver-advertise-address")
	o.policy.addNodesTo(c.Flags())
	o.policy.addRequestersTo(c.Flags()) // approve's requester rule, as signer run applies it
	c.Flags().StringVar(&o.CACert, "ca-cert", "", "CA certificate to sign with (required)")
	c.Flags().StringVar(&o.CAKey, "ca-key", "", "CA private key (required)")
	c.Flags().StringVar(&o.Config, "signing-config", "", "cfssl-style signing configuration (JSON) giving usages and expiry")
	// --config is kubeadm's configuration file in every other command; the
	// old spelling still works, with a warning.
	c.Flags().StringVar(&o.Config, "config", "", "")
	_ = c.Flags().MarkDeprecated("config", "use --signing-config (--config is kubeadm's configuration file in every other command)")
	c.Flags().StringVar(&o.Profile, "profile", "", "profile of --signing-config to use instead of its default")
	// certctl never signs a CSR that is not approved (issue 13): --force is
	// refused with what to do rather than ignored.
	c.Flags().BoolVar(&o.DryRun, "dry-run", false, "check and sign, then write the certificate as a server-side dry run: the API server checks it and stores nothing")
	c.Flags().BoolVar(&o.Force, "force", false, "")
	_ = c.Flags().MarkHidden("force")
	_ = c.MarkFlagRequired("ca-cert")
	_ = c.MarkFlagRequired("ca-key")
	return c
}
