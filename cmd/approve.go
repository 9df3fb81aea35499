package cmd

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

type approveOptions struct {
	api     apiFlags
	policy  policyFlags
	force   bool
	message string
}

func newApproveCommand() *cobra.Command {
	o := &approveOptions{}
	c := &cobra.Command{
		Use:   "approve NAME",
		Short: "Approve a CSR for a control-plane certificate after checking it",
		Long: dedent.Dedent(`
			Approve the CertificateSigningRequest NAME through its /approval
			subresource, after the checks the Kubernetes documentation asks of an
			approver:

			- proof of possession: the request's self-signature is valid, so the
			  requester holds the private key;
			- the request fits the control-plane certificate it claims: for its signer
			  name (certctl's, or kubernetes.io/kube-apiserver-client[-kubelet] for the
			  client certificates those issue), the subject, SANs and usages of one of kubeadm's
			  certificates on the control-plane nodes (--config, the cluster flags and
			  --control-plane-node say which), O=system:masters only with
			  --allow-system-masters;
			- the requester (spec.username, spec.groups) may ask for it: by default
			  the groups of ` + pki.AdminKubeconfig + ` and ` + pki.SuperAdminKubeconfig + `.

			A request that fails is left pending, with the reason: deny it. --force
			skips the profile and requester checks, never the proof of possession,
			and says so in the approval. The caller needs "approve" on the "signers"
			resource named by the CSR's signer name and "update" on
			certificatesigningrequests/approval.
		`),
		Example: examples(`
			sudo certctl approve csr-8vq2x --kubeconfig ` + filepath.Join(config.DefaultKubeconfigDir, pki.AdminKubeconfig) + ` --config kubeadm.yaml
		`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	o.api.addTo(c.Flags(), false, 5, 10)
	o.policy.addTo(c.Flags(), true, "cert-dir", "certificate-validity")
	c.Flags().BoolVar(&o.force, "force", false, "skip the profile and requester checks (the proof of possession is still checked)")
	c.Flags().StringVar(&o.message, "message", "", "message of the Approved condition (default: what was checked)")
	return c
}

func (o *approveOptions) run(cmd *cobra.Command, name string) error {
	opts := signer.ApproveOptions{Force: o.force, Message: o.message}
	if !o.force {
		p, _, err := o.policy.build(cmd)
		if err != nil {
			return err
		}
		opts.Policy = p
	}
	client, err := o.api.client()
	if err != nil {
		return err
	}
	res, err := signer.Approve(cmd.Context(), client, name, opts)
	if err != nil {
		return withAPIHint(err, "approver")
	}
	out := cmd.OutOrStdout()
	switch {
	case res.AlreadyApproved:
		fmt.Fprintf(out, "[approve] CSR %s was already approved (%s)\n", name, signer.State(res.CSR))
	case o.force:
		fmt.Fprintf(cmd.ErrOrStderr(), "[warning] --force: the profile and requester checks were skipped; only the proof of possession was checked\n")
		fmt.Fprintf(out, "[approve] CSR %s approved for signer %s (requested by %s)\n", name, res.CSR.Spec.SignerName, res.CSR.Spec.Username)
	default:
		fmt.Fprintf(out, "[approve] CSR %s approved: it fits the %s certificate of signer %s (requested by %s, usages %s)\n",
			name, res.Profile.Name, res.CSR.Spec.SignerName, res.CSR.Spec.Username, usageList(res.CSR.Spec.Usages))
	}
	return nil
}

type denyOptions struct {
	api     apiFlags
	reason  string
	message string
}

func newDenyCommand() *cobra.Command {
	o := &denyOptions{}
	c := &cobra.Command{
		Use:   "deny NAME --reason REASON",
		Short: "Deny a CSR",
		Long: dedent.Dedent(`
			Deny the CertificateSigningRequest NAME through its /approval subresource
			with a Denied condition carrying --reason (a CamelCase word, by
			convention) and --message. A denied CSR is never signed. An approved CSR
			cannot be denied: conditions are never removed; delete it instead.
		`),
		Example: examples(`
			certctl deny csr-8vq2x --reason UnknownSAN --message "evil.example.com is not ours"
		`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := o.api.client()
			if err != nil {
				return err
			}
			already, err := signer.Deny(cmd.Context(), client, args[0], o.reason, o.message, time.Now())
			if err != nil {
				return withAPIHint(err, "approver")
			}
			if already {
				fmt.Fprintf(cmd.OutOrStdout(), "[deny] CSR %s was already denied\n", args[0])
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "[deny] CSR %s denied: %s\n", args[0], o.reason)
			return nil
		},
	}
	o.api.addTo(c.Flags(), false, 5, 10)
	c.Flags().StringVar(&o.reason, "reason", "", "reason of the Denied condition (required)")
	c.Flags().StringVar(&o.message, "message", "", "message of the Denied condition")
	_ = c.MarkFlagRequired("reason")
	return c
}
