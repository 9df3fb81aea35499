package cmd

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/certctl/certctl/phases/external"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/pki"
)

// useCSRFlags are renew's --use-csr and --csr-dir: keys and CSRs for an
// external CA instead of certificates (docs/external-ca.md).
type useCSRFlags struct {
	enabled bool
	dir     string
}

func (f *useCSRFlags) addTo(fs *pflag.FlagSet) {
	fs.BoolVar(&f.enabled, "use-csr", false, "write a new key, a CSR and a request file (what to sign) per certificate for an external CA, into --csr-dir, instead of renewing; install the signed certificates with certctl certs import")
	fs.StringVar(&f.dir, "csr-dir", "", "with --use-csr: folder for the keys, CSRs and request files (it mirrors the certificate folder)")
}

// set reports whether either flag was given: runCSR then handles the
// command, and rejects one without the other.
func (f *useCSRFlags) set() bool { return f.enabled || f.dir != "" }

// csrFlagsAllowed are the flags that mean something with --use-csr; any
// other given is rejected before any work, rather than ignored.
var csrFlagsAllowed = []string{"use-csr", "csr-dir", "config", "cert-dir", "kubeconfig-dir", "encryption-algorithm", "certificate-validity", "lock-timeout"}

// runCSR is `renew --use-csr`: it reads the certificates as renew does,
// without the CA keys, and writes into --csr-dir what the external CA
// needs. Nothing in the certificate or kubeconfig folders changes.
func (o *renewOptions) runCSR(cmd *cobra.Command, args []string) error {
	if !o.csr.enabled {
		return fmt.Errorf("--csr-dir is only used with --use-csr")
	}
	if o.csr.dir == "" {
		return fmt.Errorf("--use-csr needs --csr-dir: the folder to write the keys, CSRs and request files to")
	}
	var conflict []string
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if !slices.Contains(csrFlagsAllowed, f.Name) {
			conflict = append(conflict, "--"+f.Name)
		}
	})
	if len(conflict) > 0 {
		return fmt.Errorf("%s cannot apply with --use-csr, which only writes keys and CSRs (a new key for each; nothing is replaced): drop %s", strings.Join(conflict, ", "), strings.Join(conflict, ", "))
	}
	errOut := cmd.ErrOrStderr()
	cluster, selected, err := o.selectTargets(cmd, args)
	if err != nil {
		return err
	}
	// As renew: the configured algorithm when one is configured, else each
	// key's current one.
	var alg pki.KeyAlgorithm
	if o.cluster.configFile != "" || cmd.Flags().Changed("encryption-algorithm") {
		alg = pki.KeyAlgorithm(cluster.EncryptionAlgorithm)
	}
	// Under the lock, after recovery, so that the CSRs are made from the
	// certificates in force, not from a renewal's half.
	release, err := node.Lock(cmd.Context(), errOut, cluster.CertificatesDir, o.lock.timeout, o.kubeconfigDir)
	if err != nil {
		return err
	}
	defer release()
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "[renew] Writing keys, CSRs and request files for an external CA to %q, from certificate folder %q and kubeconfig folder %q\n", o.csr.dir, cluster.CertificatesDir, o.kubeconfigDir)
	res, err := external.WriteCSRs(cmd.Context(), selected, external.CSROptions{
		CSRDir:        o.csr.dir,
		CertDir:       cluster.CertificatesDir,
		KubeconfigDir: o.kubeconfigDir,
		KeyAlgorithm:  alg,
		Validity:      cluster.CertificateValidity,
		SkipMissing:   len(args) == 1 && args[0] == "all",
		Now:           time.Now,
		Rand:          rand.Reader,
		Out:           out,
	})
	if err != nil {
		return err
	}
	res.WriteSummary(out, importCommand(o.csr.dir, cluster.CertificatesDir, o.kubeconfigDir))
	return nil
}
