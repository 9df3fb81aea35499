package renew

import (
	"context"
	"fmt"

	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/external"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/phases/renewal"
)

// RequestCSRs is `renew --use-csr`: it reads the certificates as Run does,
// without the CA keys, and writes into csrDir what the external CA needs,
// then says how to install what it signs (importCommand). Nothing in the
// certificate or kubeconfig folders changes. Of o it uses Cluster,
// KubeconfigDir, Args, KeyAlgorithm, LockTimeout, Now, Rand, Out, ErrOut.
func RequestCSRs(ctx context.Context, o Options, csrDir, importCommand string) error {
	o.defaults()
	cluster := o.Cluster
	selected, err := Select(cluster, o.KubeconfigDir, o.Args)
	if err != nil {
		return err
	}
	sans, err := o.sans(selected)
	if err != nil {
		return err
	}
	// Under the lock, after recovery, so that the CSRs are made from the
	// certificates in force, not from a renewal's half.
	release, err := node.Lock(ctx, o.ErrOut, cluster.CertificatesDir, o.LockTimeout, o.KubeconfigDir)
	if err != nil {
		return err
	}
	defer release()
	// And the CSR folder's own lock, which init-phase --use-csr takes, with
	// what a killed run left in it; not for a folder WriteCSRs refuses.
	if err := phases.CheckCSRDir(csrDir, cluster.CertificatesDir, o.KubeconfigDir); err != nil {
		return err
	}
	releaseCSR, err := node.LockCSR(ctx, o.ErrOut, csrDir, o.LockTimeout, cluster.CertificatesDir)
	if err != nil {
		return err
	}
	defer releaseCSR()
	fmt.Fprintf(o.Out, "[renew] Writing keys, CSRs and request files for an external CA to %q, from certificate folder %q and kubeconfig folder %q\n", csrDir, cluster.CertificatesDir, o.KubeconfigDir)
	res, err := external.WriteCSRs(ctx, selected, csrDir, renewal.Options{
		CertDir:       cluster.CertificatesDir,
		KubeconfigDir: o.KubeconfigDir,
		KeyAlgorithm:  o.KeyAlgorithm,
		Validity:      cluster.CertificateValidity,
		SkipMissing:   isAll(o.Args),
		SANs:          sans,
		DropSANs:      o.DropSANs,
		Now:           o.Now,
		Rand:          o.Rand,
		Out:           o.Out,
	})
	if err != nil {
		return err
	}
	res.WriteSummary(o.Out, importCommand)
	return nil
}
