package renewal

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// Issuer obtains certificates: from the CA keys on disk (engine.Issue, Renew's
// default), the cluster's certificates API (package apirenew) or an
// external CA (package external). Renew checks what any of them returns
// and installs it in the same transaction, with the same backup.
type Issuer interface {
	// Issue returns one certificate and its new private key per request,
	// in the order of reqs.
	Issue(ctx context.Context, reqs []Request) ([]Issued, error)
}

// Request is one certificate an Issuer is asked for.
type Request struct {
	Target
	// Current is the certificate being renewed; Profile says what the new
	// one must say (Current's subject, SANs and usages).
	Current *x509.Certificate
	Profile pki.Profile
	// CA is the certificate the new one must chain to (ca.crt,
	// front-proxy-ca.crt or etcd/ca.crt): the one its clients trust.
	CA *x509.Certificate
	// Validity is the validity to ask for (certificateValidityPeriod).
	Validity time.Duration
	// KeyAlgorithm is the algorithm of the new key.
	KeyAlgorithm pki.KeyAlgorithm
}

// Issued is a certificate an Issuer obtained, and its private key.
type Issued struct {
	Key  crypto.Signer
	Cert *x509.Certificate
	// Remove are files that Renew removes in the transaction that
	// installs Cert, each a txn.File with Remove set: the issuer's own
	// copies of Key (apirenew's pending key), which must not outlive the
	// install, even when the process is killed right after its commit.
	// They are not in Renewed.Files.
	Remove []txn.File
}

// Requests reads and checks the files of targets as Renew does (with
// o.Issuer set, a CA key need not be on disk) and returns what an Issuer
// is asked for, so that a caller can obtain the certificates, which may
// take a person's approval, before it takes certctl's lock and calls Renew.
func Requests(targets []Target, o Options) ([]Request, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	p := newPlanner(&o, o.Now().UTC())
	for _, t := range targets {
		if err := p.plan(t); err != nil {
			return nil, err
		}
	}
	return requests(p.items, &o), nil
}

func requests(items []*item, o *Options) []Request {
	reqs := make([]Request, len(items))
	for i, it := range items {
		reqs[i] = Request{Target: it.Target, Current: it.old, Profile: it.profile(), CA: it.ca.Cert,
			Validity: o.validityOf(it.old, it.issuer), KeyAlgorithm: it.alg}
	}
	return reqs
}

// profile is what it's new certificate says: what the current one says, as
// kubeadm's renewal does (its SANs too: the CA signed them), but the
// configuration's SANs with Options.SANs, and without the "any" extended
// key usage, which no certctl signer issues (policy.Issued): the
// inventory's usages when it had no other (anyUsage).
func (it *item) profile() pki.Profile {
	p := pki.ProfileFromCert(it.Name, it.BaseName, it.CAName, it.old)
	if it.sans != nil {
		p.DNSNames, p.IPs = it.sans.DNSNames, it.sans.IPs
	}
	if it.anyUsage() {
		p.ExtKeyUsages = slices.DeleteFunc(p.ExtKeyUsages, func(u x509.ExtKeyUsage) bool { return u == x509.ExtKeyUsageAny })
		if e, ok := pki.Kubeadm().Find(it.Name); ok && len(p.ExtKeyUsages) == 0 {
			p.ExtKeyUsages = pki.Node{}.Profile(e).ExtKeyUsages
		}
	}
	return p
}

// anyUsage reports whether it's current certificate has the "any"
// extended key usage, which its renewal drops.
func (it *item) anyUsage() bool { return slices.Contains(it.old.ExtKeyUsage, x509.ExtKeyUsageAny) }

// obtain asks issuer for the items' certificates and checks each with
// pki.VerifyIssued (its key, its chain to the CA on disk, subject, SANs,
// usages, validity) before anything is staged. It returns them by name.
func obtain(ctx context.Context, issuer Issuer, items []*item, o *Options, now time.Time) (map[string]Issued, error) {
	issued, err := issuer.Issue(ctx, requests(items, o))
	if err != nil {
		return nil, err
	}
	if len(issued) != len(items) {
		return nil, fmt.Errorf("renewal: the issuer returned %d certificates for %d requests", len(issued), len(items))
	}
	out := make(map[string]Issued, len(items))
	for i, it := range items {
		is := issued[i]
		if is.Key == nil || is.Cert == nil {
			return nil, fmt.Errorf("renew %s: the issuer returned no certificate or key", it.Name)
		}
		if ahead := is.Cert.NotBefore.Sub(now); ahead > 0 {
			// The signer's clock is ahead of this host's by more than it
			// backdates (kube-controller-manager: 5 minutes): every
			// certificate it issues now is refused the same way. When
			// nothing else is wrong with it, what is wrong is the clock,
			// and the same certificate installs once the clock is right.
			if err := pki.VerifyIssued(is.Cert, nil, is.Key.Public(), it.ca.Cert, it.profile(), is.Cert.NotBefore); err != nil {
				return nil, fmt.Errorf("renew %s: %w; nothing was replaced", it.Name, err)
			}
			return nil, fmt.Errorf("renew %s: the certificate issued for it is valid from %s, %v ahead of this host's clock (%s): this host's clock is behind its signer's; set the clock right (timedatectl, NTP), or wait until then, and run the same command again, which installs the same certificate; nothing was replaced",
				it.Name, is.Cert.NotBefore.UTC().Format(time.RFC3339), ahead.Round(time.Second), now.UTC().Format(time.RFC3339))
		}
		if err := pki.VerifyIssued(is.Cert, nil, is.Key.Public(), it.ca.Cert, it.profile(), now); err != nil {
			return nil, fmt.Errorf("renew %s: %w; nothing was replaced", it.Name, err)
		}
		// An issuer's signer (Options.Issuer) is not certctl's: the
		// certificates API's may be anyone's. What none of certctl's
		// issues is refused, as `certs import` refuses it. The CA on disk
		// signs the profile, as short as the configuration asks. The
		// certificates API's issuer refuses it first, in its own words
		// (a CSR's certificate is never signed again: apirenew's
		// stillFits), so this advice is for the CSR files' external CA.
		if err := policy.Issued(is.Cert, it.profile()); o.Issuer != nil && err != nil {
			return nil, fmt.Errorf("renew %s: %w; nothing was replaced", it.Name, err)
		}
		out[it.Name] = is
	}
	return out, nil
}
