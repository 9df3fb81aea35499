package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// VerifyIssued checks a certificate issued for a request (by an external CA
// or through the certificates API) before it is installed: it must be the
// certificate of pub, chain to ca (through the intermediates that came with
// it), name exactly the subject asked for (an O that the CA adds to a
// certificate that only serves is accepted), cover every SAN asked for, carry
// every extended key usage asked for (and want.RequiredKeyUsage) through a
// CA chain that allows it (chainAllows), not be a
// CA, and be valid at now.
//
// The error lists every problem found, on one line, so that an operator can
// fix the request in one round trip.
func VerifyIssued(cert *x509.Certificate, intermediates []*x509.Certificate, pub crypto.PublicKey, ca *x509.Certificate, want Profile, now time.Time) error {
	var problems []string
	if !SamePublicKey(cert.PublicKey, pub) {
		problems = append(problems, "it does not match the private key")
	}
	var refused *RefusedCertError
	if err := VerifySignedBy(cert, intermediates, ca, now); errors.As(err, &refused) && refused.Renewable {
		problems = append(problems, refused.Why+": have the CA sign it "+refused.Redo)
	} else if errors.As(err, &refused) {
		problems = append(problems, refused.Why)
	} else if err != nil {
		problems = append(problems, fmt.Sprintf("it is not signed by the CA %q", ca.Subject.CommonName))
	} else if err := chainAllows(cert, intermediates, ca, want.ExtKeyUsages, now); err != nil {
		problems = append(problems, err.Error())
	}
	if cert.Subject.CommonName != want.CommonName {
		problems = append(problems, fmt.Sprintf("its CN is %q, not %q", cert.Subject.CommonName, want.CommonName))
	}
	if !sameSet(cert.Subject.Organization, want.Organization) && (len(want.Organization) > 0 || !addedOK(cert)) {
		problems = append(problems, fmt.Sprintf("its O is %q, not %q", cert.Subject.Organization, want.Organization))
	}
	if missing := MissingSANs(cert, want.DNSNames, want.IPs); len(missing) > 0 {
		problems = append(problems, "it lacks the SANs "+strings.Join(missing, ", "))
	}
	if missing := MissingUsages(cert, want.ExtKeyUsages); len(missing) > 0 {
		problems = append(problems, "it lacks the extended key usages "+strings.Join(missing, ", "))
	}
	if cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		problems = append(problems, "it lacks the key usage digital signature")
	}
	if missing := keyUsages(want.RequiredKeyUsage &^ x509.KeyUsageDigitalSignature &^ cert.KeyUsage); len(missing) > 0 {
		problems = append(problems, "it lacks the key usages "+strings.Join(missing, ", "))
	}
	if cert.IsCA {
		problems = append(problems, "it is a CA certificate (CA:TRUE)")
	}
	if err := ValidAt(cert, now); err != nil {
		problems = append(problems, strings.TrimPrefix(err.Error(), "pki: certificate "))
	}
	if len(problems) > 0 {
		return fmt.Errorf("pki: certificate for %q refused: %s", want.Name, strings.Join(problems, "; "))
	}
	return nil
}

// addedOK reports whether the O of cert, issued for a subject without
// one, is harmless: cert cannot authenticate a client (its extended key
// usages are set, and none is client auth or any), so O is no RBAC group,
// as an enterprise CA adds one to every subject; and none of it is a
// Kubernetes group (system:...), which no CA adds by policy.
func addedOK(cert *x509.Certificate) bool {
	return len(cert.ExtKeyUsage) > 0 && !slices.ContainsFunc(cert.ExtKeyUsage, func(u x509.ExtKeyUsage) bool {
		return u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny
	}) && !slices.ContainsFunc(cert.Subject.Organization, func(o string) bool { return strings.HasPrefix(o, "system:") })
}

// MissingUsages lists the extended key usages of want that cert lacks, by
// name ("server auth", "client auth"). ExtKeyUsageAny covers every usage.
func MissingUsages(cert *x509.Certificate, want []x509.ExtKeyUsage) []string {
	if slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return nil
	}
	var missing []string
	for _, u := range want {
		if !slices.Contains(cert.ExtKeyUsage, u) {
			missing = append(missing, UsageName(u))
		}
	}
	return missing
}

// keyUsageNames spell key usages as certificates.k8s.io/v1 does, in the
// order of their bits.
var keyUsageNames = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digital signature"},
	{x509.KeyUsageContentCommitment, "content commitment"},
	{x509.KeyUsageKeyEncipherment, "key encipherment"},
	{x509.KeyUsageDataEncipherment, "data encipherment"},
	{x509.KeyUsageKeyAgreement, "key agreement"},
	{x509.KeyUsageCertSign, "cert sign"},
	{x509.KeyUsageCRLSign, "crl sign"},
	{x509.KeyUsageEncipherOnly, "encipher only"},
	{x509.KeyUsageDecipherOnly, "decipher only"},
}

// keyUsages spells the key usages of u by name ("key encipherment"), in
// the order of their bits.
func keyUsages(u x509.KeyUsage) []string {
	var names []string
	for _, k := range keyUsageNames {
		if u&k.bit != 0 {
			names = append(names, k.name)
		}
	}
	return names
}

// UsageName spells an extended key usage as certificates.k8s.io/v1 does.
func UsageName(u x509.ExtKeyUsage) string {
	if name, ok := extKeyUsageNames[u]; ok {
		return name
	}
	return fmt.Sprintf("usage %d", u)
}

var extKeyUsageNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageServerAuth:      "server auth",
	x509.ExtKeyUsageClientAuth:      "client auth",
	x509.ExtKeyUsageCodeSigning:     "code signing",
	x509.ExtKeyUsageEmailProtection: "email protection",
	x509.ExtKeyUsageAny:             "any",
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// chainAllows checks that the chain from cert to ca (through
// intermediates) allows the extended key usages of want that the
// components check: server auth and client auth. A CA
// certificate that names extended key usages limits those of every
// certificate under it: Go's TLS stack (the API server, the kubelet,
// etcd) and OpenSSL refuse a client certificate whose CA allows only
// server auth, say, although the certificate itself names client auth.
// VerifySignedBy checks the chain for any usage; this is the check the
// components make.
func chainAllows(cert *x509.Certificate, intermediates []*x509.Certificate, ca *x509.Certificate, want []x509.ExtKeyUsage, now time.Time) error {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(ca)
	for _, c := range intermediates {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	chains, err := cert.Verify(opts)
	if err != nil || len(chains) == 0 {
		return nil // VerifyIssued reports it
	}
	for _, u := range want {
		if u != x509.ExtKeyUsageServerAuth && u != x509.ExtKeyUsageClientAuth {
			continue // no component checks another usage
		}
		opts.KeyUsages = []x509.ExtKeyUsage{u}
		if _, err := cert.Verify(opts); err == nil {
			continue
		}
		for _, c := range chains[0][1:] {
			if len(c.ExtKeyUsage) > 0 && !slices.Contains(c.ExtKeyUsage, u) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) {
				var names []string
				for _, a := range c.ExtKeyUsage {
					names = append(names, UsageName(a))
				}
				return fmt.Errorf("the CA %q allows only the extended key usages %s, so the components reject the %s this certificate needs: have it signed by a CA whose certificate allows %s or names no extended key usage", c.Subject.CommonName, strings.Join(names, ", "), UsageName(u), UsageName(u))
			}
		}
		return fmt.Errorf("its CA chain does not allow the extended key usage %s, so the components reject it: have it signed by a CA whose certificate allows %s or names no extended key usage", UsageName(u), UsageName(u))
	}
	return nil
}

// LeafAfterCA is, for the certificates of file (a leaf's file, or a
// kubeconfig's client certificate data) written CA first with the name
// certificate after it, the index of that leaf and the error that says to
// put it first; 0 and nil otherwise. The leaf's key does not match the
// first certificate, which reads as a pair to restore from a backup, where
// the fix is the order: components present the first certificate.
func LeafAfterCA(file, name string, chain []*x509.Certificate) (int, error) {
	if len(chain) == 0 || !chain[0].IsCA {
		return 0, nil
	}
	i := slices.IndexFunc(chain, func(c *x509.Certificate) bool { return !c.IsCA })
	if i < 0 {
		return 0, nil
	}
	return i, fmt.Errorf("%s holds the CA certificate %q first and the %s certificate after it: components present the first, which their peers reject; put the leaf first (then its issuers), as kubeadm writes it", file, chain[0].Subject.CommonName, name)
}
