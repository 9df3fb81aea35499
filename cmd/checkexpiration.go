package cmd

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/expiration"
	"github.com/certctl/certctl/phases/node"
)

type checkExpirationOptions struct {
	cluster       clusterFlags
	kubeconfigDir string
	output        string
	warnWithin    time.Duration
}

func newCheckExpirationCommand() *cobra.Command {
	o := &checkExpirationOptions{}
	c := &cobra.Command{
		Use:   "check-expiration",
		Short: "Show when each certificate expires and what is wrong with it; exit non-zero for monitoring",
		Long: dedent.Dedent(`
			Print, as ` + "`kubeadm certs check-expiration`" + ` does, the expiry of every
			certificate of the node (files in --cert-dir, client certificates in the
			kubeconfig files of --kubeconfig-dir) and of the CAs, and also:

			- a PROBLEMS column: a certificate not signed by its CA, a key that does
			  not match its certificate, a missing key, an unreadable file, and, with
			  --config, SANs that differ from what the configuration asks for;
			- the kubelet's client certificate (kubelet.conf and the file it points
			  to, e.g. /var/lib/kubelet/pki/kubelet-client-current.pem) when
			  kubelet.conf exists.

			-o json and -o yaml print the versioned schema output.certctl.io/v1
			(docs/renew.md). It only reads, after finishing or discarding a renewal
			that was interrupted (as every certctl command does).

			Exit status: 0 all well; 2 something expires within --warn-within (by
			default: has expired); 3 a problem was found (takes precedence over 2);
			1 certctl could not run, or none of the files exists (wrong folders).
		`),
		Example: examples(`
			# kubeadm's tables, with problems
			sudo certctl check-expiration

			# For monitoring: exit 2 when anything expires within 30 days
			certctl check-expiration --warn-within 720h -o json > /var/lib/node-exporter/certs.json

			# Also check the SANs against kubeadm's configuration
			sudo certctl check-expiration --config kubeadm.yaml
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	fs := c.Flags()
	o.cluster.addSubsetTo(fs, "config", "cert-dir", "node-name", "apiserver-advertise-address")
	fs.StringVar(&o.kubeconfigDir, "kubeconfig-dir", config.DefaultKubeconfigDir, "folder of the kubeconfig files")
	fs.StringVarP(&o.output, "output", "o", "text", "output format: "+strings.Join(expiration.Formats, ", "))
	fs.DurationVar(&o.warnWithin, "warn-within", 0, "exit with status 2 when a certificate or CA expires within this duration (e.g. 720h)")
	return c
}

func (o *checkExpirationOptions) run(cmd *cobra.Command) error {
	if !validFormat(o.output) {
		return fmt.Errorf("unknown output format %q: use %s", o.output, strings.Join(expiration.Formats, ", "))
	}
	if o.warnWithin < 0 {
		return fmt.Errorf("--warn-within %v must not be negative", o.warnWithin)
	}
	errOut := cmd.ErrOrStderr()
	opts := expiration.Options{CertDir: o.cluster.certDir, KubeconfigDir: o.kubeconfigDir, WarnWithin: o.warnWithin}
	// Without --config the SANs have nothing to be compared with: the
	// flags' defaults (this host's name and address) would report drift
	// on every node made with other values.
	if o.cluster.configFile != "" {
		cluster, err := o.cluster.load(cmd, errOut)
		if err != nil {
			return err
		}
		opts.Cluster, opts.ConfigFile, opts.CertDir = cluster, o.cluster.configFile, cluster.CertificatesDir
	}
	opts.Now = time.Now()
	var info *expiration.Info
	err := node.Read(cmd.Context(), errOut, opts.CertDir, []string{o.kubeconfigDir}, func() (err error) {
		info, err = expiration.Check(opts)
		return err
	})
	if err != nil {
		return err
	}
	// As renew all: some missing files are kubeadm's !MISSING! rows (an
	// external etcd, super-admin.conf on the other control-plane nodes),
	// none at all is the wrong folders.
	if info.NoneExists() {
		return fmt.Errorf("none of the %d certificates, kubeconfig files and CAs to check exists in %s or %s: point --cert-dir (or certificatesDir in --config) and --kubeconfig-dir at the node's folders",
			len(info.Certificates)+len(info.CertificateAuthorities), opts.CertDir, o.kubeconfigDir)
	}
	if err := expiration.Write(cmd.OutOrStdout(), info, o.output); err != nil {
		return err
	}
	if problems := info.Problems(); len(problems) > 0 {
		more := ""
		if len(problems) > 1 {
			more = fmt.Sprintf(" (and %d more problem(s), listed above)", len(problems)-1)
		}
		return &exitcode.Error{Code: exitcode.Problems, Err: fmt.Errorf("%s%s", problems[0], more)}
	}
	if soon := info.ExpiringSoon(); len(soon) > 0 {
		names := make([]string, len(soon))
		for i, c := range soon {
			names[i] = fmt.Sprintf("%s (%s)", c.Name, c.File)
		}
		when := "have expired"
		if o.warnWithin > 0 {
			when = fmt.Sprintf("expire within %v or have expired", o.warnWithin)
		}
		hint := "renew them with `certctl renew` (CAs: see docs/renew.md)"
		if slices.ContainsFunc(soon, func(c expiration.Certificate) bool { return c.Name == expiration.KubeletConf }) {
			hint += "; kubelet.conf's is the kubelet's to rotate: check that its certificate rotation works (rotateCertificates, the kubelet's CSRs)"
		}
		return &exitcode.Error{Code: exitcode.ExpiringSoon, Err: fmt.Errorf("%d certificate(s) %s: %s; %s", len(soon), when, strings.Join(names, ", "), hint)}
	}
	return nil
}

func validFormat(f string) bool {
	for _, v := range expiration.Formats {
		if f == v {
			return true
		}
	}
	return false
}
