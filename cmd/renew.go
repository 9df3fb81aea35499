package cmd

import (
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

type renewOptions struct {
	cluster       clusterFlags
	kubeconfigDir string
	reuseKey      bool
	noBackup      bool
	api           useAPIFlags
	lock          lockFlags
	cron          cronOptions
	csr           useCSRFlags
}

func newRenewCommand() *cobra.Command {
	o := &renewOptions{cron: newCronOptions()}
	c := &cobra.Command{
		Use:   "renew all|NAME...",
		Short: "Renew certificates from the CAs on disk, crash-safely, with a backup",
		Long: dedent.Dedent(`
			Renew the leaf certificates of a control-plane node and the client
			certificates embedded in its kubeconfig files, signed by the CAs in
			--cert-dir, as `+"`kubeadm certs renew`"+` does, but safely on a live node:

			- The existing certificate is authoritative: its CN, O, SANs and key
			  usages are kept. A new key is made with the configured algorithm
			  (encryptionAlgorithm of --config, or --encryption-algorithm; without
			  either, the current key's algorithm); --reuse-key keeps the key.
			  The validity is certificateValidityPeriod, cut to the CA's expiry.
			- In a kubeconfig file only the client certificate and key change, and
			  the CA data is refreshed from ca.crt; every other field stays.
			- Every file is read and checked before anything is written: a corrupt
			  file, a key that does not match, a certificate from another CA, an
			  expired CA or a missing CA key (external CA) fails the run and
			  leaves every file as it was.
			- The old files are saved in certctl-backups/TIMESTAMP beside the
			  certificate folder (--no-backup skips it), and all new files replace
			  the old ones in one transaction: if certctl is killed, the next
			  certctl command finishes or discards it, so a certificate never
			  ends up with a key that does not match.

			CAs are not renewed. With "all", a missing file is reported as
			MISSING and skipped (but finding none of them is an error: the
			folders are wrong); a named one is an error. kubelet.conf is left to
			the kubelet, which rotates its own client certificate.

			At the end certctl lists the components to restart; with
			--restart-control-plane it makes the kubelet restart them (an
			annotation in their static pod manifests) and checks that each is a
			new process serving its new certificate.

			For cron and systemd timers (docs/cron.md): --if-expires-within
			renews only what expires within the window and says why it skips the
			rest; --jitter waits a random time first; a second certctl that writes
			waits up to --lock-timeout for the first, then fails naming its PID;
			--keep-backups prunes the backups; output is one line per action,
			--quiet prints errors only, -o json a summary. A restart that fails is
			remembered and retried by the next run with --restart-control-plane.
			Exit status: 0 renewed (or owed restarts done), 2 nothing to do
			(--if-expires-within), 1 error, including a component that did not
			come back and a CA that expires within --if-expires-within.

			With --use-api the new certificates come from the cluster's
			certificates API instead of the CA keys on disk: one CSR per
			certificate, approved and issued in the cluster, then checked and
			installed the same way, in one transaction with a backup.

			With --use-csr (external CA, docs/external-ca.md) nothing is renewed:
			a new key, a CSR and a request file saying what to sign (CA, usages,
			SANs, validity) are written per certificate into --csr-dir; a
			kubeconfig's key goes in a kubeconfig of its own, as with kubeadm.
			Install what the CA signs with `+"`certctl certs import`"+`.
		`) + "\nNames: " + strings.Join(renewal.Names(), ", ") + "\n" +
			"\nSigner name of each certificate's CSR with --use-api (change with --signer-name):\n" + signerNamesHelpForRenew(),
		Example: examples(`
			# Everything, with kubeadm's configuration file for the key algorithm and validity
			sudo certctl renew all --config kubeadm.yaml

			# Only the API server's serving certificate and the admin's kubeconfig
			sudo certctl renew apiserver admin.conf

			# Another layout, keeping the current keys
			sudo certctl renew all --reuse-key --cert-dir /srv/k8s/pki --kubeconfig-dir /srv/k8s

			# Through the cluster's certificates API, when the CA keys are not on the node
			sudo certctl renew apiserver admin.conf --use-api

			# Daily from cron or a timer: what expires within 30 days, then restart what uses it
			certctl renew all --if-expires-within 720h --restart-control-plane --keep-backups 10 --quiet
		`),
		ValidArgs: renewal.Names(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.cron.wrap(cmd, func() error { return o.run(cmd, args) })
		},
	}
	fs := c.Flags()
	o.cluster.addSubsetTo(fs, "config", "cert-dir", "encryption-algorithm", "certificate-validity")
	// Renewal's default is not init's: see renewal.Options.KeyAlgorithm.
	alg := fs.Lookup("encryption-algorithm")
	alg.DefValue = ""
	alg.Usage = "key algorithm of the new keys: " + strings.Join(config.EncryptionAlgorithms, ", ") +
		" (encryptionAlgorithm); default: the --config file's, else each key's current algorithm"
	fs.StringVar(&o.kubeconfigDir, "kubeconfig-dir", config.DefaultKubeconfigDir, "folder of the kubeconfig files")
	fs.BoolVar(&o.reuseKey, "reuse-key", false, "keep the current private keys and sign their public keys again")
	fs.BoolVar(&o.noBackup, "no-backup", false, "do not save the old files in certctl-backups/ beside the certificate folder")
	o.api.addTo(fs)
	o.lock.addTo(fs)
	o.cron.addTo(fs)
	o.csr.addTo(fs)
	return c
}

func (o *renewOptions) run(cmd *cobra.Command, args []string) error {
	if o.csr.set() {
		return o.runCSR(cmd, args)
	}
	if o.reuseKey && cmd.Flags().Changed("encryption-algorithm") {
		return fmt.Errorf("--reuse-key keeps the current keys: --encryption-algorithm cannot apply; drop one of them")
	}
	if err := o.api.check(cmd, o.reuseKey); err != nil {
		return err
	}
	if err := o.cron.validate(cmd); err != nil {
		return err
	}
	errOut := cmd.ErrOrStderr()
	cluster, selected, err := o.selectTargets(cmd, args)
	if err != nil {
		return err
	}
	// A window as long as the validity would renew every certificate at
	// every run: the churn cron mode exists to avoid.
	if o.cron.threshold && o.cron.ifExpiresWithin >= cluster.CertificateValidity {
		return fmt.Errorf("--if-expires-within %v is not shorter than the certificate validity %v (--certificate-validity): every run would renew every certificate again; use a window well inside it (cron: 720h), or drop --if-expires-within to renew now", o.cron.ifExpiresWithin, cluster.CertificateValidity)
	}
	// Absolute, so that every path printed and in -o json is.
	if cluster.CertificatesDir, err = filepath.Abs(cluster.CertificatesDir); err != nil {
		return fmt.Errorf("resolve --cert-dir: %w", err)
	}
	if o.kubeconfigDir, err = filepath.Abs(o.kubeconfigDir); err != nil {
		return fmt.Errorf("resolve --kubeconfig-dir: %w", err)
	}
	if err := o.cron.restart.load(errOut); err != nil {
		return err
	}
	if err := o.cron.wait(cmd.Context()); err != nil {
		return err
	}
	if err := o.cron.readOwed(cluster.CertificatesDir); err != nil {
		return err
	}
	all := len(args) == 1 && args[0] == "all"
	// Empty when nothing is due but restarts are owed: they are retried.
	if selected, err = o.cron.due(selected, cluster.CertificatesDir, o.kubeconfigDir, all, time.Now()); err != nil {
		return err
	}
	// The configured algorithm applies when the user configured one;
	// otherwise each key keeps its algorithm (see renewal.Options).
	var alg pki.KeyAlgorithm
	if o.cluster.configFile != "" || cmd.Flags().Changed("encryption-algorithm") {
		alg = pki.KeyAlgorithm(cluster.EncryptionAlgorithm)
	}
	out := o.cron.out()
	opts := renewal.Options{
		CertDir:       cluster.CertificatesDir,
		KubeconfigDir: o.kubeconfigDir,
		KeyAlgorithm:  alg,
		Validity:      cluster.CertificateValidity,
		ReuseKey:      o.reuseKey,
		SkipMissing:   all,
		NoBackup:      o.noBackup,
		Now:           time.Now,
		Rand:          rand.Reader,
		Out:           out,
	}
	// With --use-api the certificates are obtained first, without the
	// lock: waiting for an approval must not hold up other commands.
	var issuer *apirenew.Issuer
	if len(selected) > 0 {
		if issuer, err = o.api.obtain(cmd, o.cron.progressOut(errOut), cluster, o.cluster.configFile, selected, opts); err != nil {
			return err
		}
	}
	if issuer != nil {
		opts.Issuer = issuer
	}
	release, err := node.Lock(cmd.Context(), errOut, cluster.CertificatesDir, o.lock.timeout, o.kubeconfigDir)
	if err != nil {
		return err
	}
	defer release()
	releaseManifests, err := o.cron.restart.lock(cmd.Context(), cluster.CertificatesDir, o.lock.timeout)
	if err != nil {
		return err
	}
	defer releaseManifests()
	fmt.Fprintf(out, "[renew] Using certificate folder %q and kubeconfig folder %q\n", cluster.CertificatesDir, o.kubeconfigDir)
	// Another certctl may have renewed some while this one waited.
	if opts.Issuer == nil {
		if selected, err = o.cron.stillDue(selected, cluster.CertificatesDir, o.kubeconfigDir, time.Now()); err != nil {
			return err
		}
	}
	res := &renewal.Result{}
	if len(selected) > 0 {
		if res, err = renewal.Renew(cmd.Context(), selected, opts); err != nil {
			return err
		}
		o.api.installed(issuer, res, errOut)
	}
	return o.cron.finish(cmd.Context(), res, cluster.CertificatesDir, o.kubeconfigDir)
}

// selectTargets reads the settings renewal uses and returns the certificates
// args name ("all" or names), as every renewal mode (on disk, --use-api,
// --use-csr) selects them.
func (o *renewOptions) selectTargets(cmd *cobra.Command, args []string) (*config.Cluster, []renewal.Target, error) {
	cluster, err := o.cluster.loadForRenewal(cmd, cmd.ErrOrStderr())
	if err != nil {
		return nil, nil, err
	}
	targets, err := renewal.Targets(cluster)
	if err != nil {
		return nil, nil, err
	}
	selected, err := renewal.Select(targets, args, cluster)
	if err != nil {
		return nil, nil, err
	}
	if len(args) == 1 && args[0] == "all" {
		if err := renewal.CheckAnyExists(selected, cluster.CertificatesDir, o.kubeconfigDir); err != nil {
			return nil, nil, err
		}
	}
	return cluster, selected, nil
}

// loadForRenewal is load for renewal, which takes names and SANs from the
// certificates on disk: the same precedence (defaults, --config, flags)
// for the settings it uses, without load's detection and validation of the
// node's name and address. Renewal does not use them, and detecting them
// fails on a node without a default route or whose host name is not a DNS
// name, which would stop a cron renewal for nothing.
func (f *clusterFlags) loadForRenewal(cmd *cobra.Command, warn io.Writer) (*config.Cluster, error) {
	c, err := f.fileAndFlags(cmd, warn)
	if err != nil {
		return nil, err
	}
	if _, err := pki.ParseKeyAlgorithm(c.EncryptionAlgorithm); err != nil {
		return nil, fmt.Errorf("unknown encryptionAlgorithm (--encryption-algorithm) %q: use one of %s", c.EncryptionAlgorithm, strings.Join(config.EncryptionAlgorithms, ", "))
	}
	if c.CertificateValidity <= 0 {
		return nil, fmt.Errorf("invalid certificateValidityPeriod (--certificate-validity) %v: must be positive", c.CertificateValidity)
	}
	// pki.Certificates, which lists what there is to renew, needs a node;
	// these values end up in no certificate.
	if c.NodeName == "" {
		c.NodeName = "node"
	}
	if net.ParseIP(c.AdvertiseAddress) == nil {
		c.AdvertiseAddress = "127.0.0.1"
	}
	return &c, nil
}

// addSubsetTo registers only the named flags of clusterFlags, with their
// usual help and defaults: renewal and expiry checks read SANs and
// endpoints from the certificates, so the flags that set them would do
// nothing there.
func (f *clusterFlags) addSubsetTo(fs *pflag.FlagSet, names ...string) {
	all := pflag.NewFlagSet("cluster", pflag.ContinueOnError)
	f.addTo(all)
	for _, n := range names {
		fs.AddFlag(all.Lookup(n))
	}
}
