package cmd

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/certctl/certctl/internal/debuglog"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

type approveOptions struct {
	signer.ApproveOptions
	csrs   csrBatchFlags
	policy policyFlags
}

func newApproveCommand() *cobra.Command {
	o := &approveOptions{}
	c := &cobra.Command{
		Use:   "approve NAME... | --all-from-node NODE",
		Short: "Approve CSRs for control-plane certificates after checking each",
		Long: dedent.Dedent(`
			Approve the CertificateSigningRequests NAME... (as kubectl certificate
			approve takes them), or with --all-from-node NODE every pending CSR that
			` + "`certctl renew --use-api`" + ` made on node NODE (named
			certctl-NODE-CERTIFICATE-KEYHASH: the command renew prints; where such a
			name could be another node's, only if its request asks for NODE's
			certificate; of several for one certificate, only the newest: renew
			made the others for a key it has replaced since), through their
			/approval subresource, each after the checks the Kubernetes
			documentation asks of an approver:

			- proof of possession: the request's self-signature is valid, so the
			  requester holds the private key;
			- the request fits the control-plane certificate it claims: for its signer
			  name (certctl's, or kubernetes.io/kube-apiserver-client[-kubelet] for the
			  client certificates those issue), the subject, SANs and usages of one of kubeadm's
			  certificates on the control-plane nodes (the cluster's control-plane
			  Nodes and kubeadm-config ConfigMap, or --config, the cluster flags and
			  --control-plane-node), O=system:masters only with --allow-system-masters;
			- the requester (spec.username, spec.groups) may ask for it: by default
			  the groups of ` + pki.AdminKubeconfig + ` and ` + pki.SuperAdminKubeconfig + `.

			A request that fails is left pending, with the reason: deny it; the
			others are approved, and the exit status is 1. A CSR approved before
			(kubectl certificate approve) is left as it is, and its line says so,
			with its Approved condition's reason: nothing is checked then. --force
			skips the profile and requester checks, never the proof of possession
			nor the rules on a subject that makes its holder a cluster admin
			(O=system:masters: --allow-system-masters and an allowed requester;
			O=kubeadm:cluster-admins: an allowed requester), and says so in the approval. The caller needs "approve" on the "signers"
			resource named by the CSR's signer name and "update" on
			certificatesigningrequests/approval.
		`),
		Example: examples(`
			sudo certctl approve csr-8vq2x --kubeconfig ` + filepath.Join(config.DefaultKubeconfigDir, pki.AdminKubeconfig) + ` --config kubeadm.yaml

			# Every CSR of node cp-1's renewal through the API (what renew --use-api prints)
			sudo certctl approve --all-from-node cp-1 --config kubeadm.yaml
		`),
		Args:              namesOrFromNode(&o.csrs.fromNode),
		ValidArgsFunction: completeCSRs(&o.csrs.api, "Pending"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.policy.readConfigMapWith(&o.csrs.api)
			load := func() (*config.Cluster, error) { return o.policy.cluster.load(cmd, cmd.ErrOrStderr()) }
			return signer.ApproveWith(cmd.Context(), o.csrs.api.connect, load, o.policy.rules(), o.ApproveOptions, o.csrs.batch(cmd, args), cmd.ErrOrStderr())
		},
	}
	o.csrs.addTo(c.Flags(), "approve every pending CSR that 'certctl renew --use-api' made on node `NODE` (that node's nodeRegistration.name, or its host name), instead of names",
		"check everything and send the approval as a server-side dry run: the API server checks it and stores nothing")
	o.policy.addTo(c.Flags(), true, "certificate-validity")
	// Without --config and the kubeadm-config ConfigMap, the settings
	// come from the certificates in this folder (what renew --use-api
	// prints names it when it is not the default).
	c.Flags().Lookup("cert-dir").Usage = "folder of this node's certificates, whose SANs give the settings when neither --config nor the kubeadm-config ConfigMap does"
	c.Flags().BoolVar(&o.Force, "force", false, "skip the profile and requester checks (the proof of possession is still checked, O=system:masters still needs --allow-system-masters, and O=system:masters or O=kubeadm:cluster-admins an allowed requester)")
	c.Flags().StringVar(&o.Message, "message", "", "message of the Approved condition (default: what was checked)")
	return c
}

func newDenyCommand() *cobra.Command {
	var (
		csrs            csrBatchFlags
		reason, message string
	)
	c := &cobra.Command{
		Use:   "deny NAME... | --all-from-node NODE --reason REASON",
		Short: "Deny CSRs",
		Long: dedent.Dedent(`
			Deny the CertificateSigningRequests NAME..., or with --all-from-node NODE
			every pending CSR that ` + "`certctl renew --use-api`" + ` made on node NODE,
			through their /approval subresource with a Denied condition carrying
			--reason (a CamelCase word, by convention) and --message. A denied CSR
			is never signed. An approved CSR cannot be denied: conditions are never
			removed; delete it instead.
		`),
		Example: examples(`
			certctl deny csr-8vq2x --reason UnknownSAN --message "evil.example.com is not ours"
			certctl deny --all-from-node cp-1 --reason NotScheduled
		`),
		Args:              namesOrFromNode(&csrs.fromNode),
		ValidArgsFunction: completeCSRs(&csrs.api, "Pending"),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := csrs.api.client()
			if err != nil {
				return err
			}
			return signer.DenyAll(cmd.Context(), client, reason, message, time.Now(), csrs.batch(cmd, args))
		},
	}
	csrs.addTo(c.Flags(), "deny every pending CSR that 'certctl renew --use-api' made on node `NODE` (that node's nodeRegistration.name, or its host name), instead of names",
		"send the denial as a server-side dry run: the API server checks it and stores nothing")
	c.Flags().StringVar(&reason, "reason", "", "reason of the Denied condition (required)")
	c.Flags().StringVar(&message, "message", "", "message of the Denied condition")
	_ = c.MarkFlagRequired("reason")
	return c
}

// namesOrFromNode accepts CSR names or --all-from-node (in fromNode), not
// both and not neither.
func namesOrFromNode(fromNode *string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case *fromNode != "" && len(args) > 0:
			return fmt.Errorf("name CSRs or pass --all-from-node, not both (see '%s --help')", cmd.CommandPath())
		case *fromNode == "" && len(args) == 0:
			return fmt.Errorf("name at least one CSR, or pass --all-from-node NODE (see '%s --help')", cmd.CommandPath())
		}
		return nil
	}
}

// csrBatchFlags say which CSRs approve and deny act on, and how to reach
// them: names or --all-from-node, --dry-run, --kubeconfig.
type csrBatchFlags struct {
	api      apiFlags
	fromNode string
	dryRun   bool
}

// fromNodeHelp's first `...` is --all-from-node's value name in --help
// (pflag.UnquoteUsage): NODE, never a command.
func (f *csrBatchFlags) addTo(fs *pflag.FlagSet, fromNodeHelp, dryRunHelp string) {
	f.api.addTo(fs, false, 5, 10)
	fs.StringVar(&f.fromNode, "all-from-node", "", fromNodeHelp)
	fs.BoolVar(&f.dryRun, "dry-run", false, dryRunHelp)
}

// batch is the CSRs approve or deny act on: args, or the pending ones
// `certctl renew --use-api` made on node --all-from-node.
func (f *csrBatchFlags) batch(cmd *cobra.Command, args []string) signer.Batch {
	return signer.Batch{
		Names: args, FromNode: f.fromNode, DryRun: f.dryRun, Out: cmd.OutOrStdout(), ErrOut: cmd.ErrOrStderr(),
		Of:     apirenew.FromNode(f.fromNode, nil),
		Debugf: func(format string, args ...any) { debuglog.Debugf(debuglog.Decisions, format, args...) },
	}
}
