package cmd

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/external"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/pki"
)

func newInitPhaseCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "init-phase",
		Short: "Run one phase of a control-plane node's set-up, as `kubeadm init phase` does",
	}
	c.AddCommand(newInitCertsCommand(), newInitKubeconfigCommand())
	return c
}

// allCertNames lists the certs phase names without reading any config: they
// do not depend on it.
func allCertNames() []string {
	return phases.Names(phases.CertPhases(pki.Kubeadm().Certificates(pki.Node{})), "certs")
}

// initOptions are the flags of both init-phase commands.
type initOptions struct {
	cluster clusterFlags
	lock    lockFlags
	dryRun  bool
	useCSR  bool
	csrDir  string
}

func (o *initOptions) addTo(fs *pflag.FlagSet) {
	o.cluster.addTo(fs)
	o.lock.addTo(fs)
	fs.BoolVar(&o.dryRun, "dry-run", false, "check everything and print the files that would be written, without writing")
	fs.BoolVar(&o.useCSR, "use-csr", false, "write keys and CSRs for an external CA instead of certificates")
	fs.StringVar(&o.csrDir, "csr-dir", "", "folder for the keys and CSRs written with --use-csr")
}

// checkCSRFlags refuses --use-csr without --csr-dir, and the reverse.
func (o *initOptions) checkCSRFlags() error {
	if o.useCSR && o.csrDir == "" {
		return fmt.Errorf("--use-csr needs --csr-dir: the folder to write keys and CSRs to")
	}
	if !o.useCSR && o.csrDir != "" {
		return fmt.Errorf("--csr-dir is only used with --use-csr")
	}
	return nil
}

// runCSR runs the selected phases with --use-csr: they write under the CSR
// folder only, so it neither locks nor recovers the node's folders, whose
// files it does not write, and whose parent it must not touch. It ends, as
// renew --use-csr does, with the exact command that installs what the CA
// signs.
func (o *initOptions) runCSR(cmd *cobra.Command, env *phases.Env, selected []phases.Phase, group string) error {
	env.UseCSR, env.CSRDir = true, o.csrDir
	if err := o.run(cmd, env, selected, fmt.Sprintf("[%s] Writing keys and CSRs to %q\n", group, o.csrDir), o.csrDir, nil, false); err != nil || o.dryRun {
		return err
	}
	kubeconfigDir := env.KubeconfigDir
	if kubeconfigDir == "" {
		kubeconfigDir = config.DefaultKubeconfigDir
	}
	external.WriteNextStep(cmd.OutOrStdout(), importCommand(o.csrDir, env.Cluster.CertificatesDir, kubeconfigDir))
	return nil
}

// node loads the configuration and the node's settings.
func (o *initOptions) node(cmd *cobra.Command) (*config.Cluster, pki.Node, error) {
	cluster, err := o.cluster.load(cmd, cmd.ErrOrStderr())
	if err != nil {
		return nil, pki.Node{}, err
	}
	settings, err := cluster.Node()
	return cluster, settings, err
}

// run prints header and runs the selected phases with env: as a dry run, or
// under certctl's lock on dir, first recovering an interrupted renewal or
// write in dir and kubeconfigDirs when recovers is set.
func (o *initOptions) run(cmd *cobra.Command, env *phases.Env, selected []phases.Phase, header, dir string, kubeconfigDirs []string, recovers bool) error {
	env.DryRun, env.Now, env.Rand = o.dryRun, time.Now, rand.Reader
	run := func(out io.Writer) error {
		fmt.Fprint(out, header)
		env.Out = out
		return phases.Run(cmd.Context(), env, selected)
	}
	if o.dryRun {
		return node.DryRun(cmd.Context(), cmd.ErrOrStderr(), cmd.OutOrStdout(), dir, kubeconfigDirs, recovers, run)
	}
	lock := func() (func(), error) { return node.LockOnly(cmd.Context(), dir, o.lock.timeout) }
	if recovers {
		lock = func() (func(), error) {
			return node.Lock(cmd.Context(), cmd.ErrOrStderr(), dir, o.lock.timeout, kubeconfigDirs...)
		}
	}
	release, err := lock()
	if err != nil {
		return err
	}
	defer release()
	return run(cmd.OutOrStdout())
}

type initCertsOptions struct {
	initOptions
}

func newInitCertsCommand() *cobra.Command {
	o := &initCertsOptions{}
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
		`) + "\nPhases: " + strings.Join(allCertNames(), ", ") + "\n",
		Example: examples(`
			  # Everything, from kubeadm's configuration file
			  sudo certctl init-phase certs all --config kubeadm.yaml

			  # Only the API server serving certificate, with an extra SAN
			  sudo certctl init-phase certs apiserver --apiserver-cert-extra-sans api.example.com

			  # Keys and CSRs for an external CA, in ./csr/ (./csr/etcd/ for etcd)
			  certctl init-phase certs all --use-csr --csr-dir ./csr --config kubeadm.yaml
		`),
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: allCertNames(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, argOrAll(args))
		},
	}
	o.initOptions.addTo(c.Flags())
	return c
}

func (o *initCertsOptions) run(cmd *cobra.Command, name string) error {
	if err := o.checkCSRFlags(); err != nil {
		return err
	}
	cluster, settings, err := o.node(cmd)
	if err != nil {
		return err
	}
	inv := pki.Kubeadm()
	selected, err := phases.Select(phases.CertPhases(inv.Certificates(settings)), "certs", name)
	if err != nil {
		return err
	}
	e, _ := inv.Find(name)
	if o.useCSR && name != "all" && (e.Kind == pki.KindCA || e.Kind == pki.KindKeyPair) {
		return fmt.Errorf("%q cannot be produced as a CSR: a CA (or the sa key pair) is made by you or your external CA; drop --use-csr to make it here", name)
	}
	if cluster.ExternalEtcd && name != "all" && e.LocalEtcd {
		fmt.Fprintf(cmd.ErrOrStderr(), "[warning] the configuration uses an external etcd: kubeadm makes no %q certificate for it\n", name)
	}
	env := &phases.Env{Cluster: cluster}
	if o.useCSR {
		return o.runCSR(cmd, env, selected, "certs")
	}
	return o.initOptions.run(cmd, env, selected, fmt.Sprintf("[certs] Using certificateDir folder %q\n", cluster.CertificatesDir), cluster.CertificatesDir, nil, true)
}

type initKubeconfigOptions struct {
	initOptions
	kubeconfigDir string
}

func kubeconfigNames() []string {
	return phases.Names(phases.KubeconfigPhases(pki.Kubeadm().Kubeconfigs(pki.Node{})), "kubeconfig")
}

// kubeconfigHelp lists each kubeconfig file with its subject.
func kubeconfigHelp() string {
	var b strings.Builder
	for _, e := range pki.Kubeadm().Select(false, pki.KindKubeconfig) {
		subject := e.CommonName
		if e.NodeCN {
			subject += "NODE"
		}
		if len(e.Organization) > 0 {
			subject += ", O=" + strings.Join(e.Organization, ", O=")
		}
		server := "local API endpoint"
		if e.ControlPlaneServer {
			server = "control-plane endpoint"
		}
		fmt.Fprintf(&b, "  %-25s%-44s%s\n", e.BaseName, subject, server)
	}
	return b.String()
}

func newInitKubeconfigCommand() *cobra.Command {
	o := &initKubeconfigOptions{}
	c := &cobra.Command{
		Use:   "kubeconfig [all|NAME]",
		Short: "Make the kubeconfig files of the control plane, with embedded client certificates",
		Long: dedent.Dedent(`
			Make kubeadm's kubeconfig files (mode 0600) in --kubeconfig-dir, each with
			a client certificate and key signed by the cluster CA (ca.crt and ca.key
			in --cert-dir) and the CA certificate embedded:
		`) + "\n" + kubeconfigHelp() + dedent.Dedent(`
			Each points at the server in its last column, as kubeadm v1.37 does.
			An existing file made for the same CA is kept.

			With --use-csr, for an external CA that keeps the CA key, NAME.conf
			(the new client key and no certificate yet), NAME.conf.csr and
			NAME.conf.request.json are written under --csr-dir, as kubeadm's
			`+"`certs generate-csr`"+` lays them out; `+"`certctl certs import`"+`
			then installs each signed certificate into its kubeconfig file.
		`),
		Example: examples(`
			  sudo certctl init-phase kubeconfig all --config kubeadm.yaml
			  certctl init-phase kubeconfig admin --kubeconfig-dir ./out --cert-dir ./out/pki \
			      --control-plane-endpoint cp.example.com:6443

			  # Keys and CSRs for an external CA
			  certctl init-phase kubeconfig all --use-csr --csr-dir ./csr --config kubeadm.yaml
		`),
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: kubeconfigNames(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, argOrAll(args))
		},
	}
	o.initOptions.addTo(c.Flags())
	c.Flags().StringVar(&o.kubeconfigDir, "kubeconfig-dir", config.DefaultKubeconfigDir, "folder of the kubeconfig files")
	o.cluster.kubeconfigDir = &o.kubeconfigDir
	return c
}

func (o *initKubeconfigOptions) run(cmd *cobra.Command, name string) error {
	if err := o.checkCSRFlags(); err != nil {
		return err
	}
	cluster, settings, err := o.node(cmd)
	if err != nil {
		return err
	}
	selected, err := phases.Select(phases.KubeconfigPhases(pki.Kubeadm().Kubeconfigs(settings)), "kubeconfig", name)
	if err != nil {
		return err
	}
	if cluster.Joining && name == "all" {
		// As kubeadm join --control-plane: no super-admin.conf, no kubelet.conf.
		selected = phases.JoinKubeconfigs(selected)
	}
	env := &phases.Env{Cluster: cluster, KubeconfigDir: o.kubeconfigDir}
	if o.useCSR {
		return o.runCSR(cmd, env, selected, "kubeconfig")
	}
	return o.initOptions.run(cmd, env, selected, fmt.Sprintf("[kubeconfig] Using kubeconfig folder %q\n", o.kubeconfigDir), cluster.CertificatesDir, []string{o.kubeconfigDir}, true)
}

func argOrAll(args []string) string {
	if len(args) == 0 {
		return "all"
	}
	return args[0]
}
