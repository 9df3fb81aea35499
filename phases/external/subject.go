package external

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// checkAsked refuses what the request file or CSR at from asks for t
// (want: its subject, and its server and client auth) beyond what certctl issues
// itself: the inventory's subject and usages, or, as `renew` keeps them
// (renewal's item.profile), those of the certificate in force, when its
// CA issued it (kubeadm's older O=system:masters in admin.conf). The CSR
// folder is not trusted for more: an edited request file would otherwise
// have the CA operator sign, and import install, any identity
// (O=system:masters in controller-manager.conf).
func (im *importer) checkAsked(t renewal.Target, want pki.Profile, from string, ca *authority) error {
	e, ok := im.inv.Find(t.Name)
	if !ok {
		return nil
	}
	invUsages := pki.Node{}.Profile(e).ExtKeyUsages
	cur := im.current(t, ca)
	subjectOK := fitsEntry(e, want.CommonName, want.Organization) ||
		cur != nil && sameSubject(want.CommonName, want.Organization, cur.Subject.CommonName, cur.Subject.Organization)
	usable := slices.Clone(invUsages)
	if cur != nil {
		usable = append(usable, slices.DeleteFunc(slices.Clone(cur.ExtKeyUsage), func(u x509.ExtKeyUsage) bool { return u == x509.ExtKeyUsageAny })...)
	}
	var extra []string
	for _, u := range want.ExtKeyUsages {
		// Server and client auth are what the components verify, so what
		// makes a certificate another identity; another usage a request
		// asks for is left to the request, as before (issue of
		// TestImportIntermediateLimitsOtherUsage).
		if verified(u) && !slices.Contains(usable, u) {
			extra = append(extra, pki.UsageName(u))
		}
	}
	nodeErr := im.checkNode(t, e, want, from, cur)
	if subjectOK && len(extra) == 0 {
		return nodeErr
	}
	var asked, gives []string
	if !subjectOK {
		asked = append(asked, "the subject "+subject(want.CommonName, want.Organization))
		g := "the subject " + entrySubject(e)
		if cur != nil {
			g += fmt.Sprintf(" (or, as renew keeps it, the current certificate's %s)", subject(cur.Subject.CommonName, cur.Subject.Organization))
		}
		gives = append(gives, g)
	}
	if len(extra) > 0 {
		asked = append(asked, "the extended key usages "+strings.Join(extra, ", "))
		gives = append(gives, "only the extended key usages "+usageNames(usable))
	}
	err := fmt.Errorf("%s asks for %s, but certctl's inventory gives %s %s: write the request again with %s (it keeps a right key and CSR) and have it signed as that request file says",
		from, strings.Join(asked, " and "), t.Name, strings.Join(gives, " and "), im.remake(t))
	if nodeErr != nil {
		return fmt.Errorf("%w; also %w", nodeErr, err)
	}
	return err
}

// verified reports whether the components verify u in a chain: server or
// client auth.
func verified(u x509.ExtKeyUsage) bool {
	return u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageClientAuth
}

// current is t's certificate in force when ca issued it, nil otherwise
// (none, unreadable, or not ca's: renew would not renew it either).
func (im *importer) current(t renewal.Target, ca *authority) *x509.Certificate {
	path := t.File(im.o.CertDir, im.o.KubeconfigDir)
	var certs []*x509.Certificate
	if t.Kubeconfig {
		cfg, err := kubeconfig.Load(path)
		if err != nil {
			return nil
		}
		if certs, _, err = kubeconfig.ClientChain(cfg); err != nil {
			return nil
		}
	} else {
		data, err := pki.ReadFile(path)
		if err != nil {
			return nil
		}
		if certs, err = pki.ParseCerts(data); err != nil {
			return nil
		}
	}
	for _, c := range ca.bundle {
		if pki.IssuedBy(certs[0], certs[1:], c, im.now) == nil {
			return certs[0]
		}
	}
	return nil
}

// fitsEntry reports whether cn and o are e's subject. A CN that names the
// node (Entry.NodeCN) must be e's prefix and a name: import has no node
// settings (no --config) to know which.
func fitsEntry(e pki.Entry, cn string, o []string) bool {
	if e.NodeCN {
		name, ok := strings.CutPrefix(cn, e.CommonName)
		return ok && name != "" && sameSubject("", o, "", e.Organization)
	}
	return sameSubject(cn, o, e.CommonName, e.Organization)
}

// sameSubject reports whether CN and O are the same, O in any order.
func sameSubject(cn1 string, o1 []string, cn2 string, o2 []string) bool {
	a, b := slices.Clone(o1), slices.Clone(o2)
	slices.Sort(a)
	slices.Sort(b)
	return cn1 == cn2 && slices.Equal(a, b)
}

// subject is "CN=cn" with ", O=o" for each o.
func subject(cn string, o []string) string {
	s := "CN=" + cn
	for _, g := range o {
		s += ", O=" + g
	}
	return s
}

// entrySubject is e's subject, with NODE for the node's name.
func entrySubject(e pki.Entry) string {
	if e.NodeCN {
		return subject(e.CommonName+"NODE", e.Organization)
	}
	return subject(e.CommonName, e.Organization)
}

// usageNames lists us by name.
func usageNames(us []x509.ExtKeyUsage) string {
	var names []string
	for _, u := range us {
		if n := pki.UsageName(u); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}
