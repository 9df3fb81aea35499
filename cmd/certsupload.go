package cmd

import (
	"crypto/rand"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/copycerts"
)

func newCertsCertificateKeyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "certificate-key",
		Short: "Print a new certificate key for `certs upload` and `certs download`",
		Long: dedent.Dedent(`
			Print a new random key of 32 bytes, hex-encoded, as ` + "`kubeadm certs certificate-key`" + `
			does. ` + "`certctl certs upload`" + ` encrypts the cluster's CAs with it, and
			` + "`certctl certs download`" + ` (or ` + "`kubeadm join --control-plane`" + `) decrypts
			them. Keep it secret: with it, whoever can read the kubeadm-certs Secret
			gets the cluster's CA keys.
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return copycerts.PrintNewKey(cmd.OutOrStdout(), rand.Reader)
		},
	}
}

// certsTransfer binds the flags of certs upload and certs download to the
// workflow's options.
type certsTransfer struct {
	copycerts.Command
	cluster clusterFlags
	api     apiFlags
}

func newCertsUploadCommand() *cobra.Command {
	o := &certsTransfer{}
	c := &cobra.Command{
		Use:   "upload [--certificate-key KEY]",
		Short: "Store the cluster's CAs and service-account key pair, encrypted, for a control-plane node that joins",
		Long: dedent.Dedent(`
			Encrypt the files every control-plane node shares — ca.crt and ca.key,
			front-proxy-ca.crt and .key, sa.key and sa.pub, and etcd/ca.crt and
			.key (with etcd.external in --config: its caFile, certFile and keyFile
			instead) — with the certificate key, into the Secret
			kube-system/kubeadm-certs, exactly as ` + "`kubeadm init phase upload-certs --upload-certs`" + `
			does: a node that joins gets them with ` + "`certctl certs download`" + ` or
			` + "`kubeadm join --control-plane --certificate-key KEY`" + `.

			The Secret is owned by a bootstrap token that expires after 2 hours:
			kube-controller-manager then deletes both. The Role and RoleBinding
			kubeadm:kubeadm-certs let kubeadm's bootstrap tokens read it. Running the
			command again replaces the Secret and starts a new 2 hours.

			A CA key that is not on this node (an external CA) is stored empty, as
			kubeadm stores it; the certificates and the service-account key pair
			must be there; ca.crt must be one of the CAs kube-controller-manager
			publishes in kube-system/kube-root-ca.crt, or, when that cannot be
			read, one of the CAs of the kubeconfig that verified the API server
			(the output says which was compared, or why none was). Without
			--certificate-key, the key is the certificateKey of --config's
			InitConfiguration, as for kubeadm; without either, a new key is
			made and printed.
		`),
		Example: examples(`
			# On a control-plane node
			KEY=$(certctl certs certificate-key)
			sudo certctl certs upload --certificate-key "$KEY" --kubeconfig /etc/kubernetes/admin.conf
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// On a control-plane node, admin.conf in --kubeconfig-dir when
			// there, as renew --use-api finds it (internal/kubeclient).
			return o.command(cmd, func() (*kubeclient.Client, error) { return o.api.nodeClient(o.KubeconfigDir) }).Upload(cmd.Context())
		},
	}
	fs := c.Flags()
	fs.StringVar(&o.CertificateKey, "certificate-key", "", "hex key that encrypts the files (certctl certs certificate-key); - reads it from standard input, where ps does not show it (on a terminal, asked for and not echoed); empty: the InitConfiguration's certificateKey in --config, else a new one, printed")
	fs.BoolVar(&o.DryRun, "dry-run", false, "send every object as a server-side dry run: the API server checks it and stores nothing")
	o.cluster.addSubsetTo(fs, "config", "cert-dir")
	o.cluster.addKubeconfigDirTo(fs, &o.KubeconfigDir, "folder of the kubeconfig files: its admin.conf is the default --kubeconfig")
	o.api.addTo(fs, false, 0, 0)
	fs.Lookup("kubeconfig").Usage = kubeclient.KubeconfigHelp(true)
	return c
}

// command is the upload or download the flags ask for.
func (o *certsTransfer) command(cmd *cobra.Command, connect func() (*kubeclient.Client, error)) copycerts.Command {
	o.Now, o.Rand, o.Out, o.ErrOut, o.Connect, o.In, o.Kubeconfig = time.Now, rand.Reader, cmd.OutOrStdout(), cmd.ErrOrStderr(), connect, cmd.InOrStdin(), o.api.kubeconfig
	o.Settings = func() (config.Cluster, error) {
		// Only the folders and etcd.external matter here: not worth a
		// line saying where the node's settings came from.
		o.cluster.quiet = true
		return o.cluster.fileAndFlags(cmd, cmd.ErrOrStderr())
	}
	o.cluster.readWith(&o.api.kubeconfig, &o.api.context)
	o.ConfigKey = func() string { return o.cluster.certificateKey }
	return o.Command
}

func newCertsDownloadCommand() *cobra.Command {
	o := &certsTransfer{}
	c := &cobra.Command{
		Use:   "download --certificate-key KEY",
		Short: "Write the cluster's CAs and service-account key pair from kubeadm-certs, on a control-plane node that joins",
		Long: dedent.Dedent(`
			Read the Secret kube-system/kubeadm-certs that ` + "`certctl certs upload`" + ` or
			` + "`kubeadm init phase upload-certs --upload-certs`" + ` stored, decrypt it with
			the certificate key, and write its files into --cert-dir, as
			` + "`kubeadm join --control-plane`" + ` does. Then ` + "`certctl init-phase certs all`" + `
			and ` + "`init-phase kubeconfig all`" + ` with the node's JoinConfiguration make
			its own certificates from these CAs (docs/ha.md).

			Every entry is decrypted and checked (each key matches its certificate)
			before anything is written; then the files are written together,
			crash-safely, keys 0600. A file already there that is identical is kept,
			so running the command again changes nothing; a different one (another
			CA), a certificate no CA of the Secret signed, or a kubeconfig file in
			--kubeconfig-dir whose embedded CA is another cluster's is refused, and
			nothing is written. So is a Secret whose ca.crt is none of the CAs
			kube-controller-manager publishes in kube-system/kube-root-ca.crt, or,
			when the kubeconfig may not read it (a bootstrap token), none of the
			CAs of the kubeconfig that verified the API server (the output says
			which was compared, or why none was).
			The kubeconfig needs only "get" on that Secret: kubeadm's Role grants
			it to bootstrap tokens.
		`),
		Example: examples(`
			# On the node that joins, with the key the upload used
			sudo certctl certs download --certificate-key "$KEY" --kubeconfig bootstrap.conf
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.command(cmd, o.downloadClient).Download(cmd.Context())
		},
	}
	fs := c.Flags()
	fs.StringVar(&o.CertificateKey, "certificate-key", "", "hex key the upload used (required, unless --config's JoinConfiguration has controlPlane.certificateKey, as for kubeadm join); - reads it from standard input, where ps does not show it (on a terminal, asked for and not echoed)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "read, decrypt and check everything and print the files that would be written, without writing")
	o.cluster.addSubsetTo(fs, "config", "cert-dir")
	o.cluster.addKubeconfigDirTo(fs, &o.KubeconfigDir, "folder of the node's kubeconfig files: any of kubeadm's there (admin.conf, ...) whose embedded CA is another cluster's is refused")
	o.api.addTo(fs, false, 0, 0)
	fs.Lookup("kubeconfig").Usage = "kubeconfig of the API server (default: discovery.file.kubeConfigPath of --config's JoinConfiguration, as kubeadm join uses it, then $KUBECONFIG, then ~/.kube/config)"
	addLockFlag(fs, &o.LockTimeout)
	return c
}

// downloadClient connects with --kubeconfig, else with the discovery
// kubeconfig of --config's JoinConfiguration (read by then: Connect is
// called after Settings), with which kubeadm join reads the Secret, else
// as every command does.
func (o *certsTransfer) downloadClient() (*kubeclient.Client, error) {
	return o.api.clientOr(o.cluster.discoveryKubeconfig)
}
