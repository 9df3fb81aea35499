package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	netutils "k8s.io/utils/net"
)

// kubeadm's rules for the fields certctl reads, as kubeadm v1.37 applies
// them (cmd/kubeadm/app/apis/kubeadm/validation/validation.go and the
// dynamic defaulting of cmd/kubeadm/app/util/config/initconfiguration.go).
// Each check returns why a value is refused and what to use instead; the
// caller names the field, the flag or the file.

// Limits of the service subnet, kube-apiserver's own, and of the pod
// subnet (cmd/kubeadm/app/constants: MinimumAddressesInServiceSubnet,
// MaximumBitsForServiceSubnet, MinimumAddressesInPodSubnet).
const (
	minServiceSubnetAddresses = 10
	maxServiceSubnetHostBits  = 20
	minPodSubnetAddresses     = 14
)

// kubeadmFeatureGates are the feature gates kubeadm v1.37.1 accepts in
// ClusterConfiguration.featureGates (cmd/kubeadm/app/features/features.go,
// InitFeatureGates): only RootlessControlPlane. `kubeadm init --help` lists
// it alone, and kubeadm v1.37.1 refuses every other name tried, among them
// PublicKeysECDSA, EtcdLearnerMode, WaitForAllControlPlaneComponents,
// ControlPlaneKubeletLocalMode and NodeLocalCRISocket ("X is not a valid
// feature name"). certctl uses no feature gate: a known one is accepted and
// ignored (RootlessControlPlane changes no certificate or kubeconfig file,
// their owners or modes: checked with kubeadm v1.37.1).
var kubeadmFeatureGates = map[string]bool{"RootlessControlPlane": true}

// canonicalIP returns s as net.IP.String() writes it when s is an IP
// address ("2001:db8:0:0::10" → "2001:db8::10", "::ffff:10.0.0.1" →
// "10.0.0.1", "010.0.0.1" → "10.0.0.1"), else s unchanged. kubeadm parses
// addresses before it writes them into URLs and certificates, as
// netutils.ParseIPSloppy does everywhere here: IPv4 octets may have
// leading zeros, read as decimal.
func canonicalIP(s string) string {
	if ip := netutils.ParseIPSloppy(s); ip != nil {
		return ip.String()
	}
	return s
}

// checkServiceSubnet applies kubeadm's ValidateIPNetFromString and
// ValidateServiceSubnetSize: one CIDR, or one IPv4 and one IPv6 CIDR joined
// by a comma (no spaces), each with 10 to 2^20 addresses.
func checkServiceSubnet(s string) error {
	cidrs, err := parseSubnets(s, DefaultServiceSubnet, "10.96.0.0/12,fd00::/108")
	if err != nil {
		return err
	}
	for _, n := range cidrs {
		ones, bits := n.Mask.Size()
		widest, narrowest := bits-maxServiceSubnetHostBits, bits-4 // 2^4 = 16 >= 10 addresses
		if size := netutils.RangeSize(n); size < minServiceSubnetAddresses {
			return fmt.Errorf("subnet %s with %d address(es) is too small, the minimum is %d: use a /%d to /%d subnet", n, size, minServiceSubnetAddresses, widest, narrowest)
		}
		if bits-ones > maxServiceSubnetHostBits {
			return fmt.Errorf("subnet %s is too large; for %d-bit addresses, the mask must be >= %d: use a /%d to /%d subnet", n, bits, widest, widest, narrowest)
		}
	}
	return nil
}

// checkPodSubnet applies kubeadm's ValidateIPNetFromString to
// networking.podSubnet: one CIDR, or an IPv4 and an IPv6 CIDR, each with at
// least 14 addresses. kubeadm's check of it
// against the node CIDR mask reads controllerManager.extraArgs, which
// certctl does not read: that one is left to kubeadm.
func checkPodSubnet(s string) error {
	cidrs, err := parseSubnets(s, "10.244.0.0/16", "10.244.0.0/16,fd00:10:244::/56")
	if err != nil {
		return err
	}
	for _, n := range cidrs {
		if size := netutils.RangeSize(n); size < minPodSubnetAddresses {
			return fmt.Errorf("subnet %s with %d address(es) is too small, the minimum is %d", n, size, minPodSubnetAddresses)
		}
	}
	return nil
}

// parseSubnets parses a subnet field as kubeadm's ValidateIPNetFromString
// does: one CIDR, or one IPv4 and one IPv6 CIDR joined by a comma (no
// spaces). one and dual are examples of each for the error.
func parseSubnets(s, one, dual string) ([]*net.IPNet, error) {
	cidrs, err := netutils.ParseCIDRs(strings.Split(s, ","))
	if err != nil {
		return nil, fmt.Errorf("couldn't parse subnet: use one CIDR such as %s, or an IPv4 and an IPv6 CIDR separated by a comma without spaces", one)
	}
	notDual := fmt.Errorf("expected one (IPv4 or IPv6) CIDR or two CIDRs from each family for dual-stack networking: use one CIDR, or an IPv4 and an IPv6 one such as %s", dual)
	if len(cidrs) > 2 {
		return nil, notDual
	}
	if len(cidrs) == 2 {
		if isDual, err := netutils.IsDualStackCIDRs(cidrs); err != nil || !isDual {
			return nil, notDual
		}
	}
	return cidrs, nil
}

// checkAdvertiseAddress applies kubeadm's checks of the API server's
// address (SetAPIEndpointDynamicDefaults, VerifyAPIServerBindAddress): an
// IP address that is global unicast. An unspecified address (0.0.0.0, ::)
// means "detect it", as an empty one does; detected tells whether that has
// been done. A loopback address is accepted: Resolver.Load has replaced
// it by the global address of the lo interface, as kubeadm does, or kept
// it where lo has none (Resolver.loopbackToGlobal).
func checkAdvertiseAddress(s string, detected bool) error {
	ip := netutils.ParseIPSloppy(s)
	switch {
	case ip == nil:
		return errors.New("not an IP address: use the node's IP, or leave it empty to use the address of the default route's interface")
	case ip.IsUnspecified() && !detected:
		return nil
	case ip.IsUnspecified():
		return errors.New("unspecified address: leave it empty to use the address of the default route's interface, or use the node's IP")
	case !ip.IsLoopback() && !ip.IsGlobalUnicast():
		return errors.New("cannot be the API server's address (link-local, multicast or broadcast): use the node's IP")
	}
	return nil
}

// checkSAN applies kubeadm's ValidateCertSANs: an IP address, a DNS name
// (RFC 1123, lower case) or a wildcard DNS name. kubeadm lowercases
// apiServer.certSANs before, not etcd's SANs.
func checkSAN(s string) error {
	if netutils.ParseIPSloppy(s) != nil || len(validation.IsDNS1123Subdomain(s)) == 0 || len(validation.IsWildcardDNS1123Subdomain(s)) == 0 {
		return nil
	}
	if s != strings.ToLower(s) && checkSAN(strings.ToLower(s)) == nil {
		return fmt.Errorf("not an IP address or a lower-case RFC 1123 DNS name: use %q", strings.ToLower(s))
	}
	return errors.New("not an IP address, an RFC 1123 DNS name or a wildcard DNS name such as *.example.com")
}

// checkSANs applies checkSAN to each of sans, naming field.
func checkSANs(field string, sans []string) error {
	for _, s := range sans {
		if err := checkSAN(s); err != nil {
			return fmt.Errorf("invalid %s entry %q: %w", field, s, err)
		}
	}
	return nil
}

// checkDNSDomain applies kubeadm's check of networking.dnsDomain (an RFC
// 1123 subdomain, lower case), in kubeadm's words, and says what to use.
func checkDNSDomain(s string) error {
	errs := validation.IsDNS1123Subdomain(s)
	if len(errs) == 0 {
		return nil
	}
	use := fmt.Sprintf("use a DNS domain such as %s", DefaultDNSDomain)
	if l := strings.ToLower(s); l != s && len(validation.IsDNS1123Subdomain(l)) == 0 {
		use = fmt.Sprintf("use %q", l)
	}
	return fmt.Errorf("%s: %s", strings.Join(errs, "; "), use)
}

// hours writes d as kubeadm's defaults are written in its files: "8760h".
func hours(d time.Duration) string { return strings.TrimSuffix(d.String(), "0m0s") }

// checkNodeName applies kubeadm's check of nodeRegistration.name (an RFC
// 1123 subdomain) to the name as kubeadm checks it: lower-cased.
func checkNodeName(name string) error {
	if errs := validation.IsDNS1123Subdomain(strings.ToLower(name)); len(errs) > 0 {
		return errors.New("not an RFC 1123 DNS name (letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters): use the node's host name")
	}
	return nil
}

// checkAbsolute applies kubeadm's ValidateAbsolutePath.
func checkAbsolute(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("path is not absolute: use an absolute path such as %s", DefaultCertificatesDir)
	}
	return nil
}

// lowercaseSANs lower-cases apiServer.certSANs as kubeadm's LowercaseSANs
// does ("some domain names, like ELBs, have capitals in them").
func lowercaseSANs(sans []string) []string { return mapSANs(sans, strings.ToLower) }

// canonicalSANs writes the IP addresses of sans in canonical form, so that
// an address kubeadm parses ("010.0.0.2") is an IP SAN for certctl too.
func canonicalSANs(sans []string) []string { return mapSANs(sans, canonicalIP) }

// mapSANs applies f to each of sans; nil stays nil.
func mapSANs(sans []string, f func(string) string) []string {
	if sans == nil {
		return nil
	}
	out := make([]string, len(sans))
	for i, s := range sans {
		out[i] = f(s)
	}
	return out
}
