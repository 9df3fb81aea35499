package cmd

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

// signerRunOptions bind the flags to the workflow's options.
type signerRunOptions struct {
	signer.ServeOptions
	api     apiFlags
	policy  policyFlags
	caFiles map[string]*[2]string // CA name -> cert, key flags
}

func newSignerRunCommand() *cobra.Command {
	o := &signerRunOptions{caFiles: map[string]*[2]string{pki.CAName: {}, pki.FrontProxyCAName: {}, pki.EtcdCAName: {}}}
	c := &cobra.Command{
		Use:   "run",
		Short: "Sign approved CSRs of certctl's signer names until stopped",
		Long: dedent.Dedent(`
			Run a controller that signs every approved CertificateSigningRequest of
			certctl's signer names with the CA that name belongs to, as
			kube-controller-manager's signer does for the kubernetes.io names: an
			informer, a rate-limited work queue, --workers at once, conflicts retried.

			Each name issues only the control-plane certificates it is for, with
			kubeadm's profile: the subject, SANs and extended key usages of that
			certificate on the control-plane nodes, never CA:TRUE, never O=system:masters
			without --allow-system-masters, and only for a requester (the CSR's
			spec.username and spec.groups) that certctl approve would accept:
			--requester-group, --requester-user, by default the groups of admin.conf
			and super-admin.conf. spec.expirationSeconds is honoured up to
			--certificate-validity and the CA's expiry. The request's self-signature
			(proof of possession) is checked. A request that does not fit gets a
			Failed condition with a reason and a message.

			The control-plane nodes are the cluster's Nodes with the control-plane
			role, each at its InternalIP and at the addresses its kube-apiserver and
			etcd mirror pods in kube-system advertise (kubeadm's annotations),
			followed while running (informers), so that a node added to the
			cluster needs no new flag; without --config the
			kube-system/kubeadm-config ConfigMap's ClusterConfiguration is applied
			over the cluster flags (controlPlaneEndpoint, certSANs, ...).
			--control-plane-node NAME=IP, repeated, replaces the Nodes. While the
			cluster lists none, only this node's certificates are issued
			(--node-name, --apiserver-advertise-address).

			The CAs come from --cert-dir (ca, front-proxy-ca, etcd/ca; a missing one
			is skipped with its names) or from the --*-ca-cert/--*-ca-key flags. They
			must be valid at start, each CA with a key of its own (one CA or key for
			two roles is refused), and are read again when their files change
			(checked every --ca-reload-interval), as kube-controller-manager does with
			its --cluster-signing-*-file: a rotated CA signs from the next check on. A
			new pair is taken only whole and valid; while it is not (a certificate
			whose key is not replaced yet, a missing or broken file, an expired CA),
			the last good CA signs on and each check logs a warning. A new pair is
			checked as at start too: a CA file that comes to hold another CA of the
			node or its key, or a --signer's that comes to hold a node CA, is refused,
			and that CA's names wait, unsigned, until the files are fixed. With
			--leader-elect, instances share a Lease and one signs at a time. /healthz
			(liveness: fails only for a leader that stopped renewing its Lease),
			/readyz (readiness: the CSRs are listed and the API server answered
			within 20s) and /metrics (CSRs signed, failed, queued; CA reloads) are
			served on --listen-address.

			Signer names:
		`) + signer.NamesHelp(),
		Example: examples(`
			# On a control-plane node, with the node's CAs
			sudo certctl signer run --kubeconfig ` + filepath.Join(config.DefaultKubeconfigDir, pki.AdminKubeconfig) + ` --config kubeadm.yaml

			# A signer of your own for the documentation's example.com/serving (docs/signer.md)
			certctl signer run --kubeconfig signer.conf --cert-dir /var/empty \
			    --signer example.com/serving=ca.pem,ca-key.pem,server-signing-config.json

			# In a Deployment (see docs/signer.md), two replicas
			certctl signer run --leader-elect --cert-dir /pki --config /config/kubeadm.yaml \
			    --control-plane-node cp-1=192.0.2.10 --control-plane-node cp-2=192.0.2.11 \
			    --listen-address :10290
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := o.run(cmd)
			// A daemon is stopped by SIGTERM: that is its normal end, exit 0
			// (docs/exit-codes.md), even before the informer synced.
			if errors.Is(err, context.Canceled) && cmd.Context().Err() != nil {
				return nil
			}
			return err
		},
	}
	fs := c.Flags()
	o.api.addTo(fs, true, 100, 200)
	o.policy.addTo(fs, true) // approve's requester rule, applied to what kubectl approved too
	// The flags are named after the CAs: --ca-cert, --front-proxy-ca-key, ...
	for _, ca := range []struct{ name, what string }{
		{pki.CAName, "cluster CA"}, {pki.FrontProxyCAName, "front-proxy CA"}, {pki.EtcdCAName, "etcd CA"},
	} {
		fs.StringVar(&o.caFiles[ca.name][0], ca.name+"-cert", "", ca.what+" certificate, instead of --cert-dir")
		fs.StringVar(&o.caFiles[ca.name][1], ca.name+"-key", "", ca.what+" key")
	}
	fs.StringArrayVar(&o.Custom, "signer", nil, "NAME=CA_CERT,CA_KEY[,SIGNING_CONFIG]: also sign the approved CSRs of this signer name of your own (e.g. example.com/serving) with this CA and cfssl-style signing configuration, under the same issuance policy; repeatable")
	fs.IntVar(&o.Workers, "workers", 8, "CSRs signed at once")
	fs.DurationVar(&o.CAReload, "ca-reload-interval", time.Minute, "how often the CA files are checked for a rotated CA; 0 reads them only at start")
	fs.StringVar(&o.ListenAddress, "listen-address", "127.0.0.1:10290", "address of the /healthz, /readyz and /metrics endpoints (plain HTTP)")
	fs.BoolVar(&o.LeaderElect, "leader-elect", false, "take a Lease before signing, so that only one of several instances signs")
	fs.StringVar(&o.Lease.Namespace, "leader-elect-namespace", "kube-system", "namespace of the Lease")
	fs.StringVar(&o.Lease.Name, "leader-elect-name", "certctl-signer", "name of the Lease")
	fs.DurationVar(&o.Lease.LeaseDuration, "leader-elect-lease-duration", 15*time.Second, "how long followers wait before taking over a lease not renewed")
	fs.DurationVar(&o.Lease.RenewDeadline, "leader-elect-renew-deadline", 10*time.Second, "how long the leader tries to renew before it stops signing")
	fs.DurationVar(&o.Lease.RetryPeriod, "leader-elect-retry-period", 2*time.Second, "time between tries to take or renew the lease")
	return c
}

func (o *signerRunOptions) run(cmd *cobra.Command) error {
	o.CAFiles = map[string][2]string{}
	for name, f := range o.caFiles {
		o.CAFiles[name] = *f
	}
	// Without --config the cluster's settings come from its kubeadm-config
	// ConfigMap, read with the signer's own client, once the probes are
	// served.
	o.policy.readConfigMapWith(&o.api)
	o.CertDirSet, o.Rules = cmd.Flags().Changed("cert-dir"), o.policy.rules()
	// Before the settings, whose ConfigMap read can wait for an API server.
	if err := o.Check(); err != nil {
		return err
	}
	if err := o.policy.cluster.Check(cmd.Flags().Changed); err != nil {
		return err
	}
	o.Settings = func() (*config.Cluster, *signer.Policy, error) {
		cluster, err := o.policy.cluster.load(cmd, cmd.ErrOrStderr())
		if err != nil {
			return nil, nil, err
		}
		policy, err := o.policy.rules().Fixed(cluster)
		return cluster, policy, err
	}
	o.NewClient = o.api.connect
	o.Now, o.Rand, o.Out, o.ErrOut = time.Now, rand.Reader, cmd.OutOrStdout(), cmd.ErrOrStderr()
	return signer.Serve(cmd.Context(), o.ServeOptions)
}
