package cmd

import (
	"crypto/rand"
	"strings"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/initphase"
	"github.com/certctl/certctl/pki"
)

func newInitPhaseCommand() *cobra.Command {
	return groupCommand("init-phase", "Run one phase of a control-plane node's set-up, as `kubeadm init phase` does",
		newInitCertsCommand(), newInitKubeconfigCommand())
}

// initOptions bind the flags of both init-phase commands (and certs
// generate-csr) to the workflow's options.
type initOptions struct {
	initphase.Options
	cluster clusterFlags
}

func (o *initOptions) addTo(fs *pflag.FlagSet, kubeconfigDirHelp string) {
	o.cluster.addTo(fs)
	o.addCommonTo(fs, kubeconfigDirHelp)
}

// kubeconfigSettings are the settings flags of init-phase kubeconfig: the
// kubeconfig files carry no SAN and it makes no CA, so the flags that set
// the API server's SANs and the CA validity would be accepted and do
// nothing; `kubeadm init phase kubeconfig` has none of them either.
var kubeconfigSettings = []string{"config", "cert-dir", "apiserver-advertise-address", "apiserver-bind-port",
	"control-plane-endpoint", "node-name", "encryption-algorithm", "certificate-validity"}

func (o *initOptions) addCommonTo(fs *pflag.FlagSet, kubeconfigDirHelp string) {
	o.cluster.addKubeconfigDirTo(fs, &o.KubeconfigDir, kubeconfigDirHelp)
	addLockFlag(fs, &o.LockTimeout)
	fs.BoolVar(&o.DryRun, "dry-run", false, "check everything and print the files that would be written, without writing")
	fs.BoolVar(&o.UseCSR, "use-csr", false, "write keys and CSRs for an external CA instead of certificates")
	fs.StringVar(&o.CSRDir, "csr-dir", "", "folder for the keys and CSRs written with --use-csr")
}

// options are the workflow's options for group's phases.
func (o *initOptions) options(cmd *cobra.Command, group string) initphase.Options {
	o.Group = group
	o.Now, o.Rand, o.Out, o.ErrOut = time.Now, rand.Reader, cmd.OutOrStdout(), cmd.ErrOrStderr()
	o.Rerun, o.ConfigFile = o.cluster.rerun(cmd), o.cluster.configFile
	o.Download = rerunFlags(cmd, "config", "cert-dir", "kubeconfig-dir")
	return o.Options
}

// load reads the node's settings the flags name.
func (o *initOptions) load(cmd *cobra.Command) func() (*config.Cluster, error) {
	return func() (*config.Cluster, error) {
		o.cluster.makesNoCA = o.MakesNoCA()
		return o.cluster.load(cmd, cmd.ErrOrStderr())
	}
}

func newInitCertsCommand() *cobra.Command {
	o := &initOptions{}
	c := &cobra.Command{
		Use:   "certs [all|NAME]",
		Short: "Make the control-plane certificates and keys (or keys and CSRs for an external CA)",
		Long: dedent.Dedent(`
			Make the certificates, keys and the service-account key pair of a
			control-plane node, with kubeadm v1.37's file names, subjects, SANs,
			key usages and validity. NAME is one of the phases below; "all" (the
			default) runs every one in order, each CA before the certificates it signs.

			An existing valid certificate and key are kept. A certificate whose key
			does not match, that is not signed by its CA, or that lacks a SAN the
			configuration asks for is an error, and nothing is written: every
			problem is found before the first file is written.

			With --use-csr, NAME.key and NAME.csr are written under --csr-dir for an
			external CA to sign, and no certificate is written. CAs and the sa key
			pair are skipped: they cannot be requested as a CSR.
		`) + "\nPhases: " + strings.Join(initphase.Names("certs"), ", ") + "\n",
		Example: examples(`
			  # Everything, from kubeadm's configuration file
			  sudo certctl init-phase certs all --config kubeadm.yaml

			  # Only the API server serving certificate, with an extra SAN
			  sudo certctl init-phase certs apiserver --apiserver-cert-extra-sans api.example.com

			  # Keys and CSRs for an external CA, in ./csr/ (./csr/etcd/ for etcd)
			  certctl init-phase certs all --use-csr --csr-dir ./csr --config kubeadm.yaml
		`),
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: initphase.Names("certs"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return initphase.Main(cmd.Context(), o.load(cmd), argOrAll(args), o.options(cmd, "certs"))
		},
	}
	o.addTo(c.Flags(), "folder of the kubeconfig files: without --config, the settings are read from the kubeadm-config ConfigMap through its admin.conf; an interrupted renewal that wrote there is finished first")
	return c
}

func newInitKubeconfigCommand() *cobra.Command {
	o := &initOptions{}
	c := &cobra.Command{
		Use:   "kubeconfig [all|NAME]",
		Short: "Make the kubeconfig files of the control plane, with embedded client certificates",
		Long: dedent.Dedent(`
			Make kubeadm's kubeconfig files (mode 0600) in --kubeconfig-dir, each with
			a client certificate and key signed by the cluster CA (ca.crt and ca.key
			in --cert-dir) and the CA certificate embedded:
		`) + "\n" + initphase.KubeconfigHelp() + dedent.Dedent(`
			Each points at the server in its last column, as kubeadm v1.37 does.
			An existing file made for the same CA is kept.

			With --use-csr, for an external CA that keeps the CA key, NAME.conf
			(the new client key and no certificate yet), NAME.conf.csr and
			NAME.conf.request.json are written under --csr-dir, as kubeadm's
			`+"`certs generate-csr`"+` lays them out; `+"`certctl certs import`"+`
			then installs each signed certificate into its kubeconfig file. A
			`+pki.KubeletKubeconfig+` that names the certificate and key the kubelet rotates
			(after its TLS bootstrap) is kept, as kubeadm keeps it: no CSR is
			written for it.
		`),
		Example: examples(`
			  sudo certctl init-phase kubeconfig all --config kubeadm.yaml
			  sudo certctl init-phase kubeconfig admin --kubeconfig-dir /tmp/admin \
			      --control-plane-endpoint cp.example.com:6443

			  # Keys and CSRs for an external CA
			  certctl init-phase kubeconfig all --use-csr --csr-dir ./csr --config kubeadm.yaml
		`),
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: initphase.Names("kubeconfig"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return initphase.Main(cmd.Context(), o.load(cmd), argOrAll(args), o.options(cmd, "kubeconfig"))
		},
	}
	o.cluster.addSubsetTo(c.Flags(), kubeconfigSettings...)
	o.addCommonTo(c.Flags(), "folder of the kubeconfig files")
	return c
}

func argOrAll(args []string) string {
	if len(args) == 0 {
		return "all"
	}
	return args[0]
}
