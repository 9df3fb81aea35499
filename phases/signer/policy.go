package signer

import (
	"cmp"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"

	certv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// DefaultRequesterGroups may ask for control-plane certificates when the
// options name no requester: the groups of kubeadm's super-admin.conf and
// admin.conf, who can rewrite the PKI anyway.
var DefaultRequesterGroups = []string{pki.MastersGroup, pki.ClusterAdminsGroup}

// PolicyOptions configure a Policy.
type PolicyOptions struct {
	// Nodes are the control-plane nodes whose certificates may be issued,
	// one configuration each (their NodeName and AdvertiseAddress differ).
	// At least one is required.
	Nodes []*config.Cluster
	// Inventory lists the certificates; pki.Kubeadm() when nil.
	Inventory pki.Inventory
	// AllowSystemMasters lets certificates with O=system:masters (of
	// kubeadm's, only super-admin.conf's) be approved and issued. Off by
	// default: that group bypasses every authorization check of the API
	// server.
	AllowSystemMasters bool
	// RequesterGroups and RequesterUsers may ask for control-plane
	// certificates: Rules().Requester compares a CSR's spec.groups and
	// spec.username with them. When both are empty, DefaultRequesterGroups.
	RequesterGroups, RequesterUsers []string
}

// Rules are the issuance policy's rules of o: DefaultRequesterGroups when
// o names no requester.
func (o PolicyOptions) Rules() policy.Rules {
	return withDefaults(policy.Rules{AllowSystemMasters: o.AllowSystemMasters, RequesterGroups: slices.Clone(o.RequesterGroups), RequesterUsers: slices.Clone(o.RequesterUsers)})
}

// withDefaults is r, with DefaultRequesterGroups when r names no requester.
func withDefaults(r policy.Rules) policy.Rules {
	if len(r.RequesterGroups) == 0 && len(r.RequesterUsers) == 0 {
		r.RequesterGroups = slices.Clone(DefaultRequesterGroups)
	}
	return r
}

// candidate is one control-plane certificate a signer name may issue.
type candidate struct {
	profile pki.Profile
	sans    pki.SANSet
	nodes   []string // the nodes whose configuration gives this exact profile
}

// Policy says which certificates each signer name may issue: for each name,
// the profiles of the control-plane certificates it issues (kubeadm's
// subjects, SANs and extended key usages, derived from the inventory's rows
// (Signer and Builtin) for every node), and who may ask for them.
type Policy struct {
	bySigner map[string][]*candidate
	rules    policy.Rules
}

// NewPolicy derives the policy from the nodes' configurations.
func NewPolicy(o PolicyOptions) (*Policy, error) {
	if len(o.Nodes) == 0 {
		return nil, fmt.Errorf("signer: policy needs the configuration of at least one control-plane node")
	}
	p := &Policy{bySigner: map[string][]*candidate{}, rules: o.Rules()}
	inv := o.Inventory
	if inv == nil {
		inv = pki.Kubeadm()
	}
	for _, node := range o.Nodes {
		n, err := node.Node()
		if err != nil {
			return nil, fmt.Errorf("signer: certificates of node %q: %w", node.NodeName, err)
		}
		for _, e := range inv.Select(n.ExternalEtcd, pki.KindLeaf, pki.KindKubeconfig) {
			for _, name := range []string{e.Signer, e.Builtin} {
				if name != "" {
					p.add(name, n.Profile(e), e.SANs, node.NodeName)
				}
			}
		}
	}
	return p, nil
}

func (p *Policy) add(signerName string, prof pki.Profile, sans pki.SANSet, node string) {
	for _, c := range p.bySigner[signerName] {
		if sameProfile(c.profile, prof) {
			if !slices.Contains(c.nodes, node) {
				c.nodes = append(c.nodes, node)
			}
			return
		}
	}
	p.bySigner[signerName] = append(p.bySigner[signerName], &candidate{profile: prof, sans: sans, nodes: []string{node}})
}

func sameProfile(a, b pki.Profile) bool {
	return a.Name == b.Name && a.CommonName == b.CommonName && slices.Equal(a.Organization, b.Organization) &&
		slices.Equal(a.DNSNames, b.DNSNames) && slices.EqualFunc(a.IPs, b.IPs, net.IP.Equal) &&
		slices.Equal(a.ExtKeyUsages, b.ExtKeyUsages)
}

// Check reports whether a request for signerName fits the profile of one of
// the control-plane certificates that name issues, and returns that profile:
//   - the key is one kubeadm makes (RSA 2048-4096, ECDSA P-256/P-384) and
//     the request does not ask for CA:TRUE;
//   - the subject is exactly the profile's CN and O (and O=system:masters
//     only if the policy allows it);
//   - every DNS and IP SAN is one of the profile's, and there are no URI or
//     email SANs;
//   - the extended key usages are the profile's, and the other usages are
//     at most digital signature and key encipherment.
//
// A request that does not fit gets a *policy.Violation. The signature of req
// (proof of possession) is checked by the caller when it parses the CSR.
func (p *Policy) Check(signerName string, req *x509.CertificateRequest, usages []certv1.KeyUsage) (pki.Profile, error) {
	cands := p.bySigner[signerName]
	if len(cands) == 0 {
		return pki.Profile{}, &policy.Violation{Reason: policy.ReasonUnknownSigner, Message: fmt.Sprintf("signer name %q issues no control-plane certificate certctl knows; certctl's names are %s", signerName, strings.Join(Names(), ", "))}
	}
	if pki.AlgorithmOf(req.PublicKey) == "" {
		return pki.Profile{}, &policy.Violation{Reason: policy.ReasonKeyNotAllowed, Message: fmt.Sprintf("public key %T is not one kubeadm makes: use RSA-2048, RSA-3072, RSA-4096, ECDSA-P256 or ECDSA-P384", req.PublicKey)}
	}
	if policy.AsksForCA(req) {
		return pki.Profile{}, &policy.Violation{Reason: policy.ReasonCARequested, Message: "the request asks for CA:TRUE: certctl never issues a CA certificate"}
	}
	subjectOK := slices.DeleteFunc(slices.Clone(cands), func(c *candidate) bool { return !SubjectFits(req, c.profile) })
	if len(subjectOK) == 0 {
		return pki.Profile{}, &policy.Violation{Reason: policy.ReasonSubjectNotAllowed, Message: fmt.Sprintf("subject %q is not that of a certificate %s issues: it issues %s", req.Subject.String(), signerName, describeSubjects(cands))}
	}
	var best *policy.Violation
	for _, c := range subjectOK {
		v := p.fit(c, req, usages)
		if v == nil {
			return c.profile, nil
		}
		best = cmp.Or(best, v)
	}
	if len(subjectOK) > 1 {
		best.Message += fmt.Sprintf(" (checked against the %d %q profiles of %s)", len(subjectOK), subjectOK[0].profile.Name, signerName)
	}
	return pki.Profile{}, best
}

// fit checks one candidate whose subject matched.
func (p *Policy) fit(c *candidate, req *x509.CertificateRequest, usages []certv1.KeyUsage) *policy.Violation {
	what := describe(c)
	if slices.Contains(c.profile.Organization, pki.MastersGroup) && !p.rules.AllowSystemMasters {
		return &policy.Violation{Reason: policy.ReasonSystemMastersRefused, Message: fmt.Sprintf("%s has O=%s, which bypasses all authorization; it is only issued or approved with --allow-system-masters", what, pki.MastersGroup)}
	}
	allowed := policy.SANList(c.profile.DNSNames, c.profile.IPs)
	extra := slices.DeleteFunc(policy.SANList(req.DNSNames, req.IPAddresses), func(s string) bool { return slices.Contains(allowed, s) })
	for _, u := range req.URIs {
		extra = append(extra, "URI:"+u.String())
	}
	for _, e := range req.EmailAddresses {
		extra = append(extra, policy.SANName("email", e))
	}
	if len(extra) > 0 {
		hint := ""
		if c.sans == pki.APIServerSANs {
			hint = "; if they belong, add them to apiServer.certSANs (--apiserver-cert-extra-sans)"
		} else if c.sans == pki.EtcdServerSANs || c.sans == pki.EtcdPeerSANs {
			hint = "; if they belong, add them to etcd.local.serverCertSANs or peerCertSANs"
		}
		return &policy.Violation{Reason: policy.ReasonSANNotAllowed, Message: fmt.Sprintf("SANs %s are not SANs of %s (allowed: %s)%s", strings.Join(extra, ", "), what, cmp.Or(strings.Join(allowed, ", "), "none"), hint)}
	}
	return usageViolation(usages, c.profile, what)
}

// SubjectFits reports whether req's subject is exactly prof's, as
// Policy.Check asks: its CN, its O in any order, and no other attribute.
func SubjectFits(req *x509.CertificateRequest, prof pki.Profile) bool {
	return req.Subject.CommonName == prof.CommonName && sameSet(req.Subject.Organization, prof.Organization) && onlyCNAndO(req)
}

// UsagesFit reports whether usages are those of prof's certificate, as
// Policy.Check asks: its extended key usages, plus at most digital
// signature and key encipherment.
func UsagesFit(usages []certv1.KeyUsage, prof pki.Profile) bool {
	return usageViolation(usages, prof, prof.Name) == nil
}

// caUsageViolation refuses the cert sign and crl sign usages with reason
// CARequested, as the issuance policy does for every signer name
// (docs/signer.md): signer run and approve check it before the profile,
// whose usage check would otherwise call it UsageNotAllowed.
func caUsageViolation(usages []certv1.KeyUsage) error {
	for _, u := range usages {
		if u == certv1.UsageCertSign || u == certv1.UsageCRLSign {
			return &policy.Violation{Reason: policy.ReasonCARequested, Message: fmt.Sprintf("usage %q is refused: certctl never issues a CA certificate", u)}
		}
	}
	return nil
}

// Judge is the issuance policy's verdict on q, a request for a
// control-plane certificate (one of certctl's signer names, or of the
// kubernetes.io client names approve checks): the one composition of the
// policy's rules that approve (before it approves), sign and signer run
// (before they sign) apply, in one order, so that a request is refused for
// the same reason on every path. In signer run's order, whose reasons are
// its Failed conditions and metric labels: no cert sign or crl sign usage
// (CARequested, before the profile would call it UsageNotAllowed); the
// profile the request claims (Check), which it returns; Rules.CheckRequest
// (O=system:masters: SystemMastersRefused, also for a requester not
// allowed); then the requester (Rules.ControlPlaneRequester). The signing
// paths add Rules.CheckSign (approved, not kubernetes.io/*), which is all
// a custom signer name gets. It returns a *policy.Violation.
func (p *Policy) Judge(q policy.Request) (pki.Profile, error) {
	if err := caUsageViolation(q.Usages); err != nil {
		return pki.Profile{}, err
	}
	prof, err := p.Check(q.SignerName, q.CSR, q.Usages)
	if err != nil {
		return pki.Profile{}, err
	}
	if err := p.rules.CheckRequest(q); err != nil {
		return pki.Profile{}, err
	}
	q.ControlPlane = prof.Name
	if err := p.rules.ControlPlaneRequester(q); err != nil {
		return pki.Profile{}, err
	}
	return prof, nil
}

// usageViolation says why usages do not fit prof, the certificate what;
// nil when they do.
func usageViolation(usages []certv1.KeyUsage, prof pki.Profile, what string) *policy.Violation {
	_, ekus, err := ParseUsages(usages)
	if err != nil {
		return &policy.Violation{Reason: policy.ReasonUsageNotAllowed, Message: err.Error()}
	}
	if !sameSet(ekus, prof.ExtKeyUsages) {
		return &policy.Violation{Reason: policy.ReasonUsageNotAllowed, Message: fmt.Sprintf("usages %q do not fit %s: its extended key usages are %s, plus at most %q and %q", usages, what, describeEKUs(prof.ExtKeyUsages), certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment)}
	}
	for _, u := range usages {
		if _, isEKU := extKeyUsages[u]; !isEKU && u != certv1.UsageDigitalSignature && u != certv1.UsageKeyEncipherment {
			return &policy.Violation{Reason: policy.ReasonUsageNotAllowed, Message: fmt.Sprintf("usage %q does not fit %s: only %q and %q key usages are issued", u, what, certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment)}
		}
	}
	return nil
}

// Rules are the rules of the issuance policy this policy was made with.
func (p *Policy) Rules() policy.Rules { return p.rules }

var (
	oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidO  = asn1.ObjectIdentifier{2, 5, 4, 10}
)

// onlyCNAndO reports whether the subject has no attribute other than CN and O.
func onlyCNAndO(req *x509.CertificateRequest) bool {
	return !slices.ContainsFunc(req.Subject.Names, func(n pkix.AttributeTypeAndValue) bool { return !n.Type.Equal(oidCN) && !n.Type.Equal(oidO) })
}

// sameSet reports whether a and b hold the same elements, in any order and
// number.
func sameSet[T comparable](a, b []T) bool { return sets.New(a...).Equal(sets.New(b...)) }

func describe(c *candidate) string {
	s := fmt.Sprintf("the %s certificate", c.profile.Name)
	// A profile with SANs, or that names the node, depends on the node.
	if p := c.profile; len(p.DNSNames) > 0 || len(p.IPs) > 0 || strings.HasPrefix(p.CommonName, pki.NodesUserPrefix) {
		s += fmt.Sprintf(" of node %s", strings.Join(c.nodes, ", "))
	}
	return s
}

func describeSubjects(cands []*candidate) string {
	var out []string
	for _, c := range cands {
		s := "CN=" + c.profile.CommonName
		if len(c.profile.Organization) > 0 {
			s += ",O=" + strings.Join(c.profile.Organization, "+O=")
		}
		out = append(out, s+" ("+c.profile.Name+")")
	}
	slices.Sort(out)
	return strings.Join(slices.Compact(out), "; ")
}

func describeEKUs(ekus []x509.ExtKeyUsage) string {
	var s []string
	for _, e := range ekus {
		for u, x := range extKeyUsages {
			if x == e && u != certv1.UsageSMIME {
				s = append(s, string(u))
			}
		}
	}
	sort.Strings(s)
	return fmt.Sprintf("%q", s)
}
