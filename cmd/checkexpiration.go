package cmd

import (
	"strings"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/clusterview"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// checkExpirationOptions binds the flags to the workflow's options
// (phases/clusterview).
type checkExpirationOptions struct {
	clusterview.Command
	cluster clusterFlags
	api     apiFlags
}

func newCheckExpirationCommand() *cobra.Command {
	o := &checkExpirationOptions{}
	c := &cobra.Command{
		Use:   "check-expiration",
		Short: "Show when each certificate expires and what is wrong with it; exit non-zero for monitoring",
		Long: dedent.Dedent(`
			Print, as ` + "`kubeadm certs check-expiration`" + ` does (-o wide: in its
			very columns), the expiry of every certificate of the node (files in --cert-dir, client certificates in the
			kubeconfig files of --kubeconfig-dir) and of the CAs, and also:

			- a PROBLEMS column: a certificate not signed by its CA, a key that does
			  not match its certificate, a missing key, an unreadable file, and SANs
			  that differ from what the configuration asks for: --config, or
			  without it the ClusterConfiguration of the kube-system/kubeadm-config
			  ConfigMap (read with KUBECONFIG-DIR/admin.conf, as kubeadm does);
			  during a CA rotation, what kubeadm undoes of its stage (docs/ca-rotation.md);
			- with etcd.external in the configuration, the etcd client certificate
			  it names (etcd.external.certFile), which renew cannot renew;
			- the kubelet's client certificate (` + pki.KubeletKubeconfig + ` and the file it points
			  to, e.g. /var/lib/kubelet/pki/kubelet-client-current.pem) when
			  ` + pki.KubeletKubeconfig + ` exists.

			-o json and -o yaml print the versioned schema output.certctl.io/v1
			(docs/renew.md). It only reads, after finishing or discarding a renewal
			that was interrupted (as every certctl command does).

			It also lists the static pods that must still be restarted to use
			renewed certificates: restarts that renew --restart-control-plane could
			not do or verify, and retries.

			-o prometheus prints the report as Prometheus metrics; --textfile PATH
			also writes them, atomically, for node_exporter's textfile collector
			(docs/monitoring.md has the metrics and a ready alert rule).

			--cluster checks the cluster instead of this node: for every control-plane
			node (the Nodes with the control-plane role, kubeadm's static pods and
			kubeadm-config ConfigMap, etcd's member list), what its kube-apiserver,
			etcd client and etcd peer endpoints serve, by TLS handshakes from this
			host: expiry, issuer, SANs against the address (and the
			controlPlaneEndpoint and certSANs), signature by the CAs in --cert-dir,
			and for this host's own endpoints whether they serve its files; and the
			kube-system/kubeadm-certs Secret when present (docs/ha.md). A node
			that does not answer costs at most 5s; the whole check about 25s.
			--node-name, --apiserver-advertise-address and --manifest-dir are
			for this node's check only, and refused with --cluster.

			Exit status (docs/exit-codes.md): 0 all well; 2 something expires within
			--warn-within (by default: has expired); 4 a restart is owed (outranks
			2); 3 a problem (outranks 4 and 2).
		`),
		Example: examples(strings.ReplaceAll(`
			# The expiry of every certificate and CA, with problems (-o wide: kubeadm's own columns)
			sudo certctl check-expiration

			# The LEAF certificate's expiry, for a script
			certctl check-expiration -o jsonpath='{.certificates[?(@.name=="LEAF")].expirationDate}' 

			# For monitoring: exit 2 when anything expires within 14 days (the nightly renewal's window is 30)
			certctl check-expiration --warn-within 336h -o json > /var/lib/certctl/certs.json

			# For node_exporter's textfile collector, from cron or a timer
			certctl check-expiration --textfile /var/lib/node_exporter/textfile/certctl.prom >/dev/null

			# Every control-plane node's served certificates, by TLS handshakes
			sudo certctl check-expiration --cluster

			# Also check the SANs against kubeadm's configuration
			sudo certctl check-expiration --config kubeadm.yaml
		`, "LEAF", pki.Kubeadm().Renewed(false)[0].CertName())),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	fs := c.Flags()
	o.cluster.addSubsetTo(fs, "config", "cert-dir", "node-name", "apiserver-advertise-address")
	o.cluster.addKubeconfigDirTo(fs, &o.KubeconfigDir, "folder of the kubeconfig files")
	fs.StringVarP(&o.Output, "output", "o", "text", output.Help("prometheus"))
	fs.StringVar(&o.Textfile, "textfile", "", "also write the report as Prometheus metrics to this file, atomically (node_exporter's textfile collector: a *.prom file in its --collector.textfile.directory)")
	fs.BoolVar(&o.Cluster, "cluster", false, "check what every control-plane node of the cluster serves (kube-apiserver, etcd client and peer endpoints) instead of this node's files")
	o.api.addTo(fs, false, 5, 10)
	fs.Lookup("kubeconfig").Usage = "with --cluster: " + kubeclient.KubeconfigHelp(true)
	fs.StringSliceVar(&o.EtcdEndpoints, "etcd-endpoints", nil, "with --cluster: etcd client URLs to ask for etcd's member list besides those learned from the cluster, all at once (default "+clusterview.DefaultEtcdEndpoint+")")
	fs.StringVar(&o.ManifestDir, "manifest-dir", "", "folder of the static pod manifests, where kube-controller-manager's signing flags are checked during a CA rotation (default: manifests beside the certificate folder, /etc/kubernetes/manifests for kubeadm's)")
	fs.DurationVar(&o.WarnWithin, "warn-within", 0, "exit with status 2 when a certificate or CA expires within this duration (e.g. 720h)")
	return c
}

func (o *checkExpirationOptions) run(cmd *cobra.Command) error {
	errOut := cmd.ErrOrStderr()
	o.Given, o.ConfigFile, o.CertDir, o.Kubeconfig = cmd.Flags().Changed, o.cluster.configFile, o.cluster.CertDir, o.api.kubeconfig
	o.FolderFlags = rerunFlags(cmd, "cert-dir", "kubeconfig-dir")
	o.Load = func() (*config.Cluster, error) { return o.cluster.load(cmd, errOut) }
	o.Layered = func() (config.Cluster, config.Source, error) {
		c, err := o.cluster.fileAndFlags(cmd, errOut)
		return c, o.cluster.source, err
	}
	o.Connect = func() (kubernetes.Interface, error) { return o.api.nodeClient(o.KubeconfigDir) }
	o.Now, o.Out, o.ErrOut = time.Now, cmd.OutOrStdout(), errOut
	return o.Command.Run(cmd.Context())
}
