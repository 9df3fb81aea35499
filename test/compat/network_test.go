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
			noProblems(t, nil, certctl, "--config", cfgPath, "--kubeconfig-dir", dir)
			noProblems(t, nil, certctl, folders...)
			if out, err := exec.Command(certctl, "renew", "all", "--update-sans", "--no-backup", "--config", cfgPath, "--kubeconfig-dir", dir).CombinedOutput(); err != nil {
				t.Fatalf("certctl renew all --update-sans: %v\n%s", err, out)
			}
			compareTrees(t, kubeadmTree, dir)
			noProblems(t, nil, certctl, "--config", cfgPath, "--kubeconfig-dir", dir)
		})
	}
}

// noProblems runs certctl check-expiration ARGS -o json, through wrap
// when not nil, and fails t unless it exits 0 and reports no problem of
// any certificate, CA, key pair or folder, and no warning.
func noProblems(t *testing.T, wrap func(*exec.Cmd) *exec.Cmd, certctl string, args ...string) {
	t.Helper()
	cmd := exec.Command(certctl, append(append([]string{"check-expiration"}, args...), "-o", "json")...)
	if wrap != nil {
		cmd = wrap(cmd)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	what := "certctl check-expiration " + strings.Join(args, " ")
	type item struct {
		Name     string
		Problems []struct{ Type, Message string }
	}
	var report struct{ Certificates, CertificateAuthorities, KeyPairs, Folders []item }
	if jerr := json.Unmarshal(out, &report); jerr != nil {
		t.Fatalf("%s: %v, %v\n%s%s", what, err, jerr, out, stderr.String())
	}
	if err != nil { // 3: problems, listed below
		t.Errorf("%s: %v\n%s", what, err, stderr.String())
	}
	for _, list := range [][]item{report.Certificates, report.CertificateAuthorities, report.KeyPairs, report.Folders} {
		for _, it := range list {
			for _, p := range it.Problems {
				t.Errorf("%s: %s: %s: %s", what, it.Name, p.Type, p.Message)
			}
		}
	}
	if strings.Contains(stderr.String(), "warning") {
		t.Errorf("%s warned:\n%s", what, stderr.String())
	}
}

// onLo runs cmd in a network namespace of its own whose lo interface has
// the global addresses 10.1.1.1 and 2001:db8:5::5, as a node of an RFC 5549
// set-up has its address on lo (BGP over link-local addresses).
func onLo(cmd *exec.Cmd) *exec.Cmd {
	const script = "ip link set lo up && ip addr add 10.1.1.1/32 dev lo && ip -6 addr add 2001:db8:5::5/128 dev lo && exec \"$@\""
	return exec.Command("unshare", append([]string{"--net", "sh", "-c", script, "sh"}, cmd.Args...)...)
}

// TestLoopbackAddressOnLo: given a loopback advertise address, kubeadm
// v1.37 uses the global address of the lo interface instead
// (SetAPIEndpointDynamicDefaults); certctl makes the same files from the
// same configuration, and finds no problem in kubeadm's. It needs a
// network namespace of its own (root, unshare and ip).
func TestLoopbackAddressOnLo(t *testing.T) {
	certctl, kubeadm := binaries(t)
	if out, err := onLo(exec.Command("true")).CombinedOutput(); err != nil {
		t.Skipf("no network namespace of its own for the test: %v\n%s", err, out)
	}
	for _, addr := range []string{"127.0.0.1", "::1"} {
		t.Run(addr, func(t *testing.T) {
			config := strings.NewReplacer("2001:db8::10", addr, "ENDPOINT", "", "NAME", "cp-1").Replace(endpointConfig)
			trees := map[string]string{}
			for tool, bin := range map[string]string{"kubeadm": kubeadm, "certctl": certctl} {
				dir := filepath.Join(t.TempDir(), tool)
				cfgPath := writeConfig(t, config, filepath.Join(dir, "pki"), "ECDSA-P256")
				for _, args := range [][]string{
					{"certs", "all", "--config", cfgPath},
					{"kubeconfig", "all", "--config", cfgPath, "--kubeconfig-dir", dir},
				} {
					if out, err := onLo(command(tool, bin, args...)).CombinedOutput(); err != nil {
						t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
					}
				}
				if tool == "kubeadm" {
					noProblems(t, onLo, certctl, "--config", cfgPath, "--kubeconfig-dir", dir)
				}
				trees[tool] = dir
			}
			compareTrees(t, trees["kubeadm"], trees["certctl"])
		})
	}
}

// TestSameFilesAsKubeadmFromFlags: without a configuration file, the flags
// of kubeadm's phases (which differ between certs and kubeconfig) give the
// same files with certctl: an advertise address detected from the default
// route (empty, or "::" for an IPv6 one first), an [IPv6]:port endpoint, a
// dual-stack service CIDR, extra SANs in upper case and repeating kubeadm's,
// another bind port and a --node-name in upper case with dots.
func TestSameFilesAsKubeadmFromFlags(t *testing.T) {
	certctl, kubeadm := binaries(t)
	if _, err := utilnet.ResolveBindAddress(nil); err != nil {
		t.Skipf("no address to detect on this machine: %v", err)
	}
	tests := []struct {
		name                      string
		common, certs, kubeconfig []string
	}{
		{
			name:       "IPv6 detected, dual-stack",
			common:     []string{"--apiserver-advertise-address", "::", "--control-plane-endpoint", "[2001:db8::20]:7443"},
			certs:      []string{"--service-cidr", "fd00:10:96::/112,10.96.0.0/16", "--apiserver-cert-extra-sans", "*.Example.org,API.example.com,fd00:10:96::1,2001:db8:0::20"},
			kubeconfig: []string{"--apiserver-bind-port", "9443", "--node-name", "CP-1.Example.com"},
		},
		{
			name:   "detected, DNS endpoint without port",
			common: []string{"--control-plane-endpoint", "cp.example.com"},
			certs:  []string{"--service-cidr", "10.96.0.0/16,fd00:10:96::/112", "--service-dns-domain", "corp.local"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trees := map[string]string{}
			for tool, bin := range map[string]string{"kubeadm": kubeadm, "certctl": certctl} {
				dir := filepath.Join(t.TempDir(), tool)
				folders := []string{"--cert-dir", filepath.Join(dir, "pki"), "--kubeconfig-dir", dir}
				certsFolders := folders
				if tool == "kubeadm" { // its certs phase has no --kubeconfig-dir; no release lookup
					certsFolders = []string{"--cert-dir", filepath.Join(dir, "pki"), "--kubernetes-version", "v1.37.1"}
					folders = append(folders, "--kubernetes-version", "v1.37.1")
				}
				for _, args := range [][]string{
					append(append(append([]string{"certs", "all"}, certsFolders...), tt.common...), tt.certs...),
					append(append(append([]string{"kubeconfig", "all"}, folders...), tt.common...), tt.kubeconfig...),
				} {
					if out, err := run(tool, bin, args...); err != nil {
						t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
					}
				}
				trees[tool] = dir
			}
			compareTrees(t, trees["kubeadm"], trees["certctl"])
		})
	}
}
