package config

import (
	"fmt"

	"github.com/certctl/certctl/pki/policy"
)

// ValidityWarnings are the warnings, one line each, about c's validity
// periods that certctl uses but advises against. kubeadm v1.37 refuses
// none of them: its ValidateCertValidity
// (cmd/kubeadm/app/apis/kubeadm/validation) warns when a period is more
// than its default, and so does certctl, in the same words. certctl also
// warns about a CA shorter than policy.MinValidity, which stops being
// trusted, with every certificate it signed, within the hour (kept, not
// refused: kubeadm accepts it, and tests of expiry need such a CA), and
// about leaves longer than their CA, which are cut to the CA's expiry
// (Env.signingValidity). Zero and negative periods are refused (Validate).
func (c *Cluster) ValidityWarnings() []string {
	return append(c.kubeadmValidityWarnings(), c.CAValidityWarnings()...)
}

const (
	leafValidityName = "certificateValidityPeriod (--certificate-validity)"
	caValidityName   = "caCertificateValidityPeriod (--ca-certificate-validity)"
)

// kubeadmValidityWarnings are those of kubeadm's ValidateCertValidity
// about a period more than its default.
func (c *Cluster) kubeadmValidityWarnings() []string {
	var w []string
	if c.CertificateValidity > DefaultCertificateValidity {
		w = append(w, fmt.Sprintf("%s %v is more than the recommended default for certificate expiration, %v, as kubeadm warns", leafValidityName, c.CertificateValidity, DefaultCertificateValidity))
	}
	if c.CACertificateValidity > DefaultCACertificateValidity {
		w = append(w, fmt.Sprintf("%s %v is more than the recommended default for CA certificate expiration, %v, as kubeadm warns", caValidityName, c.CACertificateValidity, DefaultCACertificateValidity))
	}
	return w
}

// CAValidityWarnings are the warnings about a CA made with c's periods:
// one shorter than policy.MinValidity, and leaves longer than it. A
// command that makes no CA leaves them out (Resolver.MakesNoCA): what it
// signs is cut to the expiry of the CA on disk, with a warning of its own
// (phases' signingValidity). kubeadm v1.37 warns of leaves longer than
// caCertificateValidityPeriod in every command that reads the
// configuration, `init phase kubeconfig` too.
func (c *Cluster) CAValidityWarnings() []string {
	var w []string
	if c.CACertificateValidity > 0 && c.CACertificateValidity < policy.MinValidity {
		w = append(w, fmt.Sprintf("%s %v is shorter than %v: a CA made with it expires within the hour, and every certificate it signs stops being trusted then; pass years, such as kubeadm's default %v, unless you are testing expiry", caValidityName, c.CACertificateValidity, policy.MinValidity, DefaultCACertificateValidity))
	}
	if c.CACertificateValidity > 0 && c.CertificateValidity > c.CACertificateValidity {
		w = append(w, fmt.Sprintf("%s %v is longer than %s %v: certificates signed by a CA made with it are cut to its expiry; pass a CA validity at least as long", leafValidityName, c.CertificateValidity, caValidityName, c.CACertificateValidity))
	}
	return w
}
