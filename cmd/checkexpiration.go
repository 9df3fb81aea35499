package cmd

import (
	"fmt"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/clusterview"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/expiration"
	"github.com/certctl/certctl/pki"
)

type checkExpirationOptions struct {
	cluster       clusterFlags
	kubeconfigDir string
	output        string
	warnWithin    time.Duration
	textfile      string
	// --cluster: the cluster-wide view (phases/clusterview).
	clusterView   bool
	api           apiFlags
	etcdEndpoints []string
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
			controlPlaneEndpoint and certSANs), signature by the CAs in --cert-dir;
			and the kube-system/kubeadm-certs Secret when present (docs/ha.md).

			Exit status (docs/exit-codes.md): 0 all well; 2 something expires within
			--warn-within (by default: has expired); 4 a restart is owed (outranks
			2); 3 a problem (outranks 4 and 2).
		`),
		Example: examples(`
			# The expiry of every certificate and CA, with problems (-o wide: kubeadm's own columns)
			sudo certctl check-expiration

			# The apiserver certificate's expiry, for a script
			certctl check-expiration -o jsonpath='{.certificates[?(@.name=="apiserver")].expirationDate}' 

			# For monitoring: exit 2 when anything expires within 30 days
			certctl check-expiration --warn-within 720h -o json > /var/lib/node-exporter/certs.json

			# For node_exporter's textfile collector, from cron or a timer
			certctl check-expiration --textfile /var/lib/node_exporter/textfile/certctl.prom >/dev/null

			# Every control-plane node's served certificates, by TLS handshakes
			sudo certctl check-expiration --cluster

			# Also check the SANs against kubeadm's configuration
			sudo certctl check-expiration --config kubeadm.yaml
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	fs := c.Flags()
	o.cluster.addSubsetTo(fs, "config", "cert-dir", "node-name", "apiserver-advertise-address")
	o.cluster.kubeconfigDir = &o.kubeconfigDir
	fs.StringVar(&o.kubeconfigDir, "kubeconfig-dir", config.DefaultKubeconfigDir, "folder of the kubeconfig files")
	fs.StringVarP(&o.output, "output", "o", "text", output.Help("prometheus"))
	fs.StringVar(&o.textfile, "textfile", "", "also write the report as Prometheus metrics to this file, atomically (node_exporter's textfile collector: a *.prom file in its --collector.textfile.directory)")
	fs.BoolVar(&o.clusterView, "cluster", false, "check what every control-plane node of the cluster serves (kube-apiserver, etcd client and peer endpoints) instead of this node's files")
	o.api.addTo(fs, false, 5, 10)
	fs.StringSliceVar(&o.etcdEndpoints, "etcd-endpoints", nil, "with --cluster: etcd client URLs to ask for etcd's member list after those learned from the cluster (default "+clusterview.DefaultEtcdEndpoint+")")
	fs.DurationVar(&o.warnWithin, "warn-within", 0, "exit with status 2 when a certificate or CA expires within this duration (e.g. 720h)")
	return c
}

func (o *checkExpirationOptions) run(cmd *cobra.Command) error {
	if _, err := output.Parse(o.output, "prometheus"); err != nil {
		return err
	}
	if o.warnWithin < 0 {
		return fmt.Errorf("--warn-within %v must not be negative", o.warnWithin)
	}
	if o.clusterView {
		return o.runCluster(cmd)
	}
	for _, f := range []string{"kubeconfig", "etcd-endpoints"} {
		if cmd.Flags().Changed(f) {
			return fmt.Errorf("--%s is for --cluster only: add --cluster, or drop it", f)
		}
	}
	errOut := cmd.ErrOrStderr()
	opts := expiration.Options{CertDir: o.cluster.certDir, KubeconfigDir: o.kubeconfigDir, WarnWithin: o.warnWithin, Textfile: o.textfile}
	// The SANs are compared with a kubeadm configuration (--config, or the
	// cluster's kubeadm-config ConfigMap), the node's name and address
	// taken from its certificates. Settings derived from the certificates
	// or the host would report drift on every node made with other values.
	var cluster *config.Cluster
	var err error
	if o.cluster.configFile != "" {
		cluster, err = o.cluster.load(cmd, errOut)
	} else {
		var c config.Cluster
		if c, err = o.cluster.fileAndFlags(cmd, errOut); err == nil {
			cluster = &c
		}
	}
	if err != nil {
		return err
	}
	opts.CertDir = cluster.CertificatesDir
	if o.cluster.source.Configured() && cluster.Validate() == nil {
		opts.Cluster, opts.ConfigFile = cluster, o.cluster.configFile
	}
	opts.Now = time.Now()
	return expiration.Report(cmd.Context(), opts, o.output, cmd.OutOrStdout(), errOut)
}

// runCluster is check-expiration --cluster.
func (o *checkExpirationOptions) runCluster(cmd *cobra.Command) error {
	if o.output == "prometheus" || o.textfile != "" {
		return fmt.Errorf("--cluster prints no Prometheus metrics: drop -o prometheus and --textfile, or run each node's check-expiration for its metrics")
	}
	certDir := o.cluster.certDir
	if o.cluster.configFile != "" {
		cluster, err := o.cluster.load(cmd, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		certDir = cluster.CertificatesDir
	}
	opts := clusterview.Options{CertDir: certDir, EtcdEndpoints: o.etcdEndpoints, Now: time.Now(), WarnWithin: o.warnWithin}
	client, err := kubeclient.New(kubeclient.Options{Kubeconfig: o.api.kubeconfig, KubeconfigDir: o.kubeconfigDir, UserAgent: userAgent(), Now: time.Now})
	if err != nil {
		opts.ClientError = err
	} else {
		opts.Client = client
	}
	return clusterview.Report(cmd.Context(), opts, o.output, cmd.OutOrStdout())
}
