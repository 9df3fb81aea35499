package compat

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// The network set-ups of this file are rows of TestSameFilesAsKubeadm and
// of TestCertctlOnKubeadmTree.

// ipv6OnlyConfig is an IPv6-only cluster: advertise address, service and pod
// subnets, an endpoint "[IPv6]:port", another bind port, and SANs that
// repeat what kubeadm adds anyway (the advertise address, the first service
// IP, the endpoint's address in other spellings, localhost, ::1).
const ipv6OnlyConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp-v6
localAPIEndpoint:
  advertiseAddress: "2001:db8::10"
  bindPort: 9443
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
controlPlaneEndpoint: "[2001:db8::20]:6443"
certificatesDir: CERTDIR
encryptionAlgorithm: ALG
networking:
  serviceSubnet: "fd00:10:96::/112"
  podSubnet: "fd00:10:244::/56"
apiServer:
  certSANs: ["2001:db8::10", "fd00:10:96::1", "2001:DB8:0::20", api.v6.example.com, "::1"]
etcd:
  local:
    serverCertSANs: ["2001:db8::40", etcd-0.example.com, "::1", localhost, "2001:db8::10"]
    peerCertSANs: ["2001:db8::41", peer.example.com, cp-v6, "127.0.0.1"]
`

// dualStackConfig has both families: ADDR is the advertise address (IPv4
// or IPv6), SUBNETS the service subnets (the first gives the API server's
// service IP), the endpoint a DNS name with a port other than bindPort.
const dualStackConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp-ds.prod.example.com
localAPIEndpoint:
  advertiseAddress: "ADDR"
  bindPort: 8443
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
controlPlaneEndpoint: "cp.example.com:443"
certificatesDir: CERTDIR
encryptionAlgorithm: ALG
networking:
  serviceSubnet: "SUBNETS"
  podSubnet: "10.244.0.0/16,fd00:10:244::/56"
apiServer:
  certSANs: ["*.prod.example.com", "*.Prod.Example.com", CP-DS.prod.example.com, Kubernetes.Default, "10.96.0.1", "fd00:10:96::1", "ADDR", cp.example.com, "2001:db8:0:0::30"]
etcd:
  local:
    serverCertSANs: ["192.0.2.40", "2001:db8::40", "*.etcd.example.com", cp-ds.prod.example.com]
    peerCertSANs: ["192.0.2.41", peer.example.com]
`

// endpointConfig: ENDPOINT is the controlPlaneEndpoint, NAME the node
// name, with the default bind port.
const endpointConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: NAME
localAPIEndpoint:
  advertiseAddress: "2001:db8::10"
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
controlPlaneEndpoint: "ENDPOINT"
certificatesDir: CERTDIR
encryptionAlgorithm: ALG
`

// TestCertctlOnKubeadmTree runs certctl on the PKI and kubeconfig files
// kubeadm v1.37 wrote from a configuration: check-expiration, with that
// configuration and without (the settings derived from the certificates),
// reports no problem, and renew all --update-sans with it changes nothing
// but keys, serials and dates: every file still reads as kubeadm wrote it.
func TestCertctlOnKubeadmTree(t *testing.T) {
	certctl, kubeadm := binaries(t)
	tests := []struct {
		name, config string
		detects      bool // see TestSameFilesAsKubeadm
	}{
		{name: "full config", config: fullConfig},
		{name: "unspecified IPv4 address", config: strings.Replace(unspecifiedConfig, "ADDR", "0.0.0.0", 1), detects: true},
		{name: "unspecified IPv6 address", config: strings.Replace(unspecifiedConfig, "ADDR", "::", 1), detects: true},
		{name: "empty address", config: strings.Replace(unspecifiedConfig, "ADDR", "", 1), detects: true},
		{name: "IPv6 addresses not in canonical form", config: ipv6Config},
		{name: "IPv4-mapped addresses", config: mappedConfig},
		{name: "IPv6 only", config: ipv6OnlyConfig},
		{name: "dual-stack, IPv4 advertise address", config: strings.NewReplacer("ADDR", "192.0.2.30", "SUBNETS", "10.96.0.0/16,fd00:10:96::/112").Replace(dualStackConfig)},
		{name: "dual-stack, IPv6 advertise address", config: strings.NewReplacer("ADDR", "2001:db8::30", "SUBNETS", "fd00:10:96::/112,10.96.0.0/16").Replace(dualStackConfig)},
		{name: "IPv6 endpoint without port", config: strings.NewReplacer("ENDPOINT", "2001:db8::20", "NAME", "cp-1").Replace(endpointConfig)},
		{name: "upper-case IPv6 endpoint", config: strings.NewReplacer("ENDPOINT", "[2001:DB8::20]:443", "NAME", "cp-1").Replace(endpointConfig)},
		{name: "endpoint at the advertise address", config: strings.NewReplacer("ENDPOINT", "[2001:db8:0::10]:6443", "NAME", "cp-1").Replace(endpointConfig)},
		{name: "DNS endpoint, node name with dots and upper case", config: strings.NewReplacer("ENDPOINT", "api.example.com:6443", "NAME", "CP-1.Prod.Example.com").Replace(endpointConfig)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.detects {
				if _, err := utilnet.ResolveBindAddress(nil); err != nil {
					t.Skipf("no address to detect on this machine: %v", err)
				}
			}
			dir := filepath.Join(t.TempDir(), "node")
			cfgPath := writeConfig(t, tt.config, filepath.Join(dir, "pki"), "ECDSA-P256")
			for _, args := range [][]string{
				{"certs", "all", "--config", cfgPath},
				{"kubeconfig", "all", "--config", cfgPath, "--kubeconfig-dir", dir},
			} {
				if out, err := run("kubeadm", kubeadm, args...); err != nil {
					t.Fatalf("kubeadm %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}
			kubeadmTree := filepath.Join(t.TempDir(), "kubeadm")
			if out, err := exec.Command("cp", "-a", dir, kubeadmTree).CombinedOutput(); err != nil {
				t.Fatalf("copy %s: %v\n%s", dir, err, out)
			}
			folders := []string{"--cert-dir", filepath.Join(dir, "pki"), "--kubeconfig-dir", dir}
			noProblems(t, certctl, "check-expiration", "--config", cfgPath, "--kubeconfig-dir", dir)
			noProblems(t, certctl, append([]string{"check-expiration"}, folders...)...)
			if out, err := exec.Command(certctl, "renew", "all", "--update-sans", "--no-backup", "--config", cfgPath, "--kubeconfig-dir", dir).CombinedOutput(); err != nil {
				t.Fatalf("certctl renew all --update-sans: %v\n%s", err, out)
			}
			compareTrees(t, kubeadmTree, dir)
			noProblems(t, certctl, "check-expiration", "--config", cfgPath, "--kubeconfig-dir", dir)
		})
	}
}

// noProblems runs certctl ARGS -o json and fails t unless it exits 0 and
// reports no problem of any certificate, CA, key pair or folder.
func noProblems(t *testing.T, certctl string, args ...string) {
	t.Helper()
	cmd := exec.Command(certctl, append(args, "-o", "json")...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("certctl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	type item struct {
		Name     string
		Problems []struct{ Type, Message string }
	}
	var report struct{ Certificates, CertificateAuthorities, KeyPairs, Folders []item }
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("certctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, list := range [][]item{report.Certificates, report.CertificateAuthorities, report.KeyPairs, report.Folders} {
		for _, it := range list {
			for _, p := range it.Problems {
				t.Errorf("certctl %s: %s: %s: %s", strings.Join(args, " "), it.Name, p.Type, p.Message)
			}
		}
	}
	if strings.Contains(stderr.String(), "warning") {
		t.Errorf("certctl %s warned:\n%s", strings.Join(args, " "), stderr.String())
	}
}
