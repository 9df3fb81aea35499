package expiration

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// List is `certctl certs list`: the certificates certs, the kubeconfig
// files kcs and the service-account key pair, read consistently
// (node.Read: without the lock, after finishing an interrupted
// transaction, so that the list shows what is really in force), as a
// table on out.
func List(ctx context.Context, certDir, kubeconfigDir string, certs []pki.Profile, kcs []pki.KubeconfigProfile, now time.Time, out, errOut io.Writer) error {
	var buf bytes.Buffer
	err := node.Read(ctx, errOut, certDir, []string{kubeconfigDir}, func() error {
		buf.Reset()
		return listInventory(&buf, certDir, kubeconfigDir, certs, kcs, now)
	})
	if err != nil {
		return err
	}
	_, err = buf.WriteTo(out)
	return err
}

// listInventory prints the inventory with the problems check-expiration
// finds (Check: the chain to the expected CA, the key, a CA that
// cannot sign), as a PROBLEMS column of problem types and, below the table,
// one line per problem with what to do.
func listInventory(out io.Writer, certDir, kubeconfigDir string, certs []pki.Profile, kcs []pki.KubeconfigProfile, now time.Time) error {
	info, err := Check(Options{CertDir: certDir, KubeconfigDir: kubeconfigDir, Now: now})
	if err != nil {
		return err
	}
	problems := map[string][]Problem{}
	for _, c := range append(slices.Clone(info.Certificates), info.CertificateAuthorities...) {
		problems[c.Name] = c.Problems
	}
	var listed []string
	column := func(name string, ps []Problem) string {
		if len(ps) == 0 {
			return "-"
		}
		types := make([]string, len(ps))
		for i, p := range ps {
			types[i] = string(p.Type)
			listed = append(listed, name+": "+p.Message)
		}
		return strings.Join(types, ",")
	}
	s := pki.Store{Dir: certDir}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tFILE\tSUBJECT\tSANS\tKEY\tEXPIRES\tCA\tPROBLEMS")
	row := func(name, file string, cert *x509.Certificate, err error, ca string) {
		ps := column(name, problems[name])
		if err != nil {
			status := "MISSING"
			if ok, _ := pki.Exists(file); ok {
				status = "UNREADABLE: " + err.Error()
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t\t\t\t\t%s\n", name, file, status, ps)
			return
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, file, Subject(cert), SANs(cert),
			pki.AlgorithmOf(cert.PublicKey), expiry(cert, now), ca, ps)
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
	serviceAccountRow(w, s, column)
	if err := w.Flush(); err != nil {
		return err
	}
	if len(listed) > 0 {
		fmt.Fprintln(out, "\nPROBLEMS")
		for _, p := range listed {
			fmt.Fprintf(out, "- %s\n", p)
		}
	}
	return nil
}

// serviceAccountRow prints the sa key pair in the table's columns: no
// subject, SANs, expiry or CA (it is not a certificate), the key's
// algorithm, and a problem when sa.key or sa.pub is missing, unreadable, or
// they do not match (tokens signed with the key would then be rejected).
func serviceAccountRow(w io.Writer, s pki.Store, column func(string, []Problem) string) {
	keyPath, pubPath := s.KeyPath("sa"), s.PublicKeyPath("sa")
	keyOK, _ := pki.Exists(keyPath)
	pubOK, _ := pki.Exists(pubPath)
	if !keyOK && !pubOK {
		fmt.Fprintf(w, "sa\t%s\tMISSING\t\t\t\t\t%s\n", keyPath, column("sa", nil))
		return
	}
	var ps []Problem
	add := func(t ProblemType, format string, args ...any) {
		ps = append(ps, Problem{Type: t, Message: fmt.Sprintf(format, args...)})
	}
	alg := "-"
	key, keyErr := s.ReadKey("sa")
	pub, pubErr := s.ReadPublicKey("sa")
	switch {
	case !keyOK:
		add(KeyMissing, "%s exists but its private key %s does not: restore the key from a backup (tokens already issued depend on it)", pubPath, keyPath)
	case keyErr != nil:
		add(Unreadable, "%v: restore it from a backup, or run certctl as root", keyErr)
	default:
		alg = string(pki.AlgorithmOf(key.Public()))
	}
	switch {
	case !pubOK:
		add(KeyMissing, "%s exists but its public key %s does not: run `certctl init-phase certs sa` to write it from the key", keyPath, pubPath)
	case pubErr != nil:
		add(Unreadable, "%v: remove it and run `certctl init-phase certs sa` to write it from the key", pubErr)
	case keyErr == nil && keyOK && !pki.SamePublicKey(pub, key.Public()):
		add(KeyMismatch, "%s does not match %s: restore the matching pair from a backup (tokens are checked with the public key)", pubPath, keyPath)
	}
	fmt.Fprintf(w, "sa\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", keyPath, "(service account key pair)", "-", alg, "never", "-", column("sa", ps))
}

// Subject is a certificate's subject as the tables print it: CN and O.
func Subject(c *x509.Certificate) string {
	s := "CN=" + c.Subject.CommonName
	for _, o := range c.Subject.Organization {
		s += ",O=" + o
	}
	return s
}

// SANs are a certificate's DNS names and IP addresses, "-" when none.
func SANs(c *x509.Certificate) string {
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
