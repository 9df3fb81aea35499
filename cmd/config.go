package cmd

import (
	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/phases/config"
)

func newConfigCommand() *cobra.Command {
	return groupCommand("config", "Show the node's settings that certctl uses", newConfigViewCommand())
}

func newConfigViewCommand() *cobra.Command {
	var (
		cluster       clusterFlags
		kubeconfigDir string
	)
	c := &cobra.Command{
		Use:   "view",
		Short: "Print the effective configuration as a kubeadm v1beta4 file",
		Long: dedent.Dedent(`
			Print the settings every certctl command of this node uses, as a
			kubeadm.k8s.io/v1beta4 file (InitConfiguration and ClusterConfiguration,
			the fields that decide certificates), which --config reads back.

			They come, as for every command, from --config; without it from the
			ClusterConfiguration of the kube-system/kubeadm-config ConfigMap (read
			with KUBECONFIG-DIR/admin.conf, then super-admin.conf, as kubeadm
			does), the node's name and address from its certificates; when the API
			server cannot be reached, from the certificates in --cert-dir; on a
			node without them, from kubeadm's defaults, the host name and the
			default route's address. Flags given override each. A line on stderr
			says which source was used.
		`),
		Example: examples(`
			# What certctl uses on this node, kept as a file for later runs
			sudo certctl config view > kubeadm.yaml
			sudo certctl check-expiration --config kubeadm.yaml
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cluster.load(cmd, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			data, err := config.MarshalView(*c, cluster.source == config.SourceCertificates && !cmd.Flags().Changed("service-cidr"))
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cluster.addTo(c.Flags())
	cluster.addKubeconfigDirTo(c.Flags(), &kubeconfigDir, "folder of the kubeconfig files (admin.conf, to read the kubeadm-config ConfigMap)")
	return c
}
