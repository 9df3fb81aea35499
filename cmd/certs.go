package cmd

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/config"
	"github.com/certctl/certctl/kubeconfig"
	"github.com/certctl/certctl/pki"
)

func newCertsCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "certs",
		Short: "Inspect the certificates of a control-plane node",
	}
	c.AddCommand(newCertsListCommand(), newCertsImportCommand())
	return c
}

// layout returns the certificate and kubeconfig inventory: names and file
// names only, which do not depend on the cluster's settings.
func layout() ([]pki.Profile, []pki.KubeconfigProfile) {
	c := config.Default()
	c.AdvertiseAddress, c.NodeName = "127.0.0.1", "node"
	certs, _ := pki.Certificates(&c)
	return certs, pki.Kubeconfigs(&c)
}

func newCertsListCommand() *cobra.Command {
	var certDir, kubeconfigDir string
	c := &cobra.Command{
		Use:   "list",
		Short: "List the certificates, keys and kubeconfig files on disk",
		Long: dedent.Dedent(`
			Print one line per certificate of the kubeadm inventory: its file, subject,
			SANs, key algorithm, expiry and signing CA, or MISSING. It only reads.
		`),
		Example: "  certctl certs list --cert-dir /etc/kubernetes/pki --kubeconfig-dir /etc/kubernetes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Read-only: without the lock, after finishing an interrupted
			// transaction, so that the list shows what is really in force.
			var buf bytes.Buffer
			err := readConsistently(cmd.Context(), cmd.ErrOrStderr(), certDir, []string{kubeconfigDir}, func() error {
				buf.Reset()
				return listInventory(&buf, certDir, kubeconfigDir, time.Now())
			})
			if err != nil {
				return err
			}
			_, err = buf.WriteTo(cmd.OutOrStdout())
			return err
		},
	}
	c.Flags().StringVar(&certDir, "cert-dir", config.DefaultCertificatesDir, "folder of the certificates")
	c.Flags().StringVar(&kubeconfigDir, "kubeconfig-dir", config.DefaultKubeconfigDir, "folder of the kubeconfig files")
	return c
}

func listInventory(out io.Writer, certDir, kubeconfigDir string, now time.Time) error {
	certs, kcs := layout()
	s := pki.Store{Dir: certDir}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tFILE\tSUBJECT\tSANS\tKEY\tEXPIRES\tCA")
	row := func(name, file string, cert *x509.Certificate, err error, ca string) {
		if err != nil {
			status := "MISSING"
			if ok, _ := pki.Exists(file); ok {
				status = "UNREADABLE: " + err.Error()
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t\t\t\t\n", name, file, status)
			return
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, file, subject(cert), sans(cert),
			pki.AlgorithmOf(cert.PublicKey), expiry(cert, now), ca)
	}
	for _, p := range certs {
		cert, _, err := s.ReadCert(p.BaseName)
		ca := p.CAName
		if p.IsCA {
			ca = "(self-signed)"
		}
		row(p.Name, s.CertPath(p.BaseName), cert, err, ca)
	}
	for _, p := range kcs {
		path := filepath.Join(kubeconfigDir, p.BaseName)
		var cert *x509.Certificate
		cfg, err := kubeconfig.Load(path)
		if err == nil {
			cert, _, err = kubeconfig.ClientCert(cfg)
		}
		row(p.BaseName, path, cert, err, p.CAName)
	}
	if _, err := s.ReadPublicKey("sa"); err != nil {
		fmt.Fprintf(w, "sa\t%s\tMISSING\t\t\t\t\n", s.KeyPath("sa"))
	} else {
		fmt.Fprintf(w, "sa\t%s\t(key pair for service account tokens)\t\t\t\t\n", s.KeyPath("sa"))
	}
	return w.Flush()
}

func subject(c *x509.Certificate) string {
	s := "CN=" + c.Subject.CommonName
	for _, o := range c.Subject.Organization {
		s += ",O=" + o
	}
	return s
}

func sans(c *x509.Certificate) string {
	var all []string
	all = append(all, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		all = append(all, ip.String())
	}
	if len(all) == 0 {
		return "-"
	}
	return strings.Join(all, ",")
}

func expiry(c *x509.Certificate, now time.Time) string {
	left := c.NotAfter.Sub(now)
	if left <= 0 {
		return c.NotAfter.UTC().Format("2006-01-02") + " (EXPIRED)"
	}
	return fmt.Sprintf("%s (%dd)", c.NotAfter.UTC().Format("2006-01-02"), int(left.Hours()/24))
}
