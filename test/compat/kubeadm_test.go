// Package compat checks that certctl and kubeadm v1.37, given the same
// kubeadm configuration file, write the same PKI and kubeconfig files: the
// same names, modes, subjects, SANs, usages, extensions, key kinds and
// validity. It runs both real binaries; see docs/testing.md.
package compat

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/testcluster"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func binaries(t *testing.T) (certctl, kubeadm string) {
	t.Helper()
	root := repoRoot(t)
	binDir := os.Getenv("KUBE_BIN_DIR")
	if binDir == "" {
		binDir = filepath.Join(root, "_output", "bin", "v1.37.1")
	}
	kubeadm = filepath.Join(binDir, "kubeadm")
	if _, err := os.Stat(kubeadm); err != nil {
		t.Fatalf("kubeadm v1.37.1 not found at %s: run `make kube-binaries` first", kubeadm)
	}
	certctl, err := testcluster.CertctlBinary()
	if err != nil {
		t.Fatal(err)
	}
	return certctl, kubeadm
}

const fullConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp-1
localAPIEndpoint:
  advertiseAddress: 198.51.100.10
  bindPort: 6443
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
clusterName: prod-eu
controlPlaneEndpoint: cp.example.com:6443
certificatesDir: CERTDIR
encryptionAlgorithm: ALG
networking:
  serviceSubnet: 10.100.0.0/16
  dnsDomain: corp.local
apiServer:
  certSANs: [api.example.com, 203.0.113.7, kubernetes]
etcd:
  local:
    serverCertSANs: [etcd.example.com, 192.0.2.7]
    peerCertSANs: [peer.example.com]
`

const minimalConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: node-a
localAPIEndpoint:
  advertiseAddress: 192.0.2.20
  bindPort: 8443
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
certificatesDir: CERTDIR
encryptionAlgorithm: ALG
certificateValidityPeriod: 2160h
caCertificateValidityPeriod: 26280h
`

// Configurations that kubeadm v1.37 normalizes: an unspecified advertise
// address (detected like an empty one), addresses not in canonical form,
// upper case in nodeRegistration.name and apiServer.certSANs.
const unspecifiedConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: CP-Node-1
localAPIEndpoint:
  advertiseAddress: "ADDR"
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
certificatesDir: CERTDIR
encryptionAlgorithm: ALG
apiServer:
  certSANs: ["*.Example.ORG", API.example.com, "2001:DB8:0::AB"]
`

const ipv6Config = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp-6
localAPIEndpoint:
  advertiseAddress: "2001:db8:0:0::10"
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
controlPlaneEndpoint: "[2001:db8:0:0::20]:7443"
certificatesDir: CERTDIR
encryptionAlgorithm: ALG
networking:
  serviceSubnet: "fd00::/108,10.96.0.0/16"
etcd:
  local:
    serverCertSANs: ["2001:db8:0:0::30", 010.0.0.30]
`

const mappedConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp-4
localAPIEndpoint:
  advertiseAddress: "::ffff:10.0.0.1"
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
controlPlaneEndpoint: "::ffff:10.0.0.2"
certificatesDir: CERTDIR
encryptionAlgorithm: ALG
networking:
  serviceSubnet: 10.96.0.0/28
featureGates:
  RootlessControlPlane: true
`

// v1beta3Config is minimalConfig in v1beta3 as kubeadm v1.36 read it:
// ECDSA-P256 keys from the PublicKeysECDSA feature gate, kubeadm's default
// validities; the v1beta4 fields are not v1beta3's and change nothing.
const v1beta3Config = `apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
nodeRegistration:
  name: node-a
localAPIEndpoint:
  advertiseAddress: 192.0.2.20
  bindPort: 8443
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
certificatesDir: CERTDIR
featureGates:
  PublicKeysECDSA: true
encryptionAlgorithm: RSA-4096
certificateValidityPeriod: 2160h
caCertificateValidityPeriod: 26280h
`

// clusterFirst is fullConfig with its ClusterConfiguration first and the
// separator before the InitConfiguration written as people write it
// ("---<tab># comment"), which kubeadm's YAMLReader takes as a separator.
// Were it missed, the InitConfiguration would be lost: another node name
// and address, in the test's folders only.
func clusterFirst(sep string) string {
	init, cluster, _ := strings.Cut(fullConfig, "---\n")
	return cluster + sep + "\n" + init
}

func TestSameFilesAsKubeadm(t *testing.T) {
	certctl, kubeadm := binaries(t)
	tests := []struct {
		name, config, alg string
		// certctlConfig, when set, is what certctl reads instead of config.
		certctlConfig string
		// detects: the config's advertise address is detected, which needs
		// a default route (kubeadm and certctl would both fail without).
		detects bool
	}{
		{name: "full config RSA-2048", config: fullConfig, alg: "RSA-2048"},
		{name: "minimal config ECDSA-P384", config: minimalConfig, alg: "ECDSA-P384"},
		{name: "minimal config ECDSA-P256", config: minimalConfig, alg: "ECDSA-P256"},
		{name: "unspecified IPv4 address, upper-case names", config: strings.Replace(unspecifiedConfig, "ADDR", "0.0.0.0", 1), alg: "ECDSA-P256", detects: true},
		{name: "unspecified IPv6 address", config: strings.Replace(unspecifiedConfig, "ADDR", "::", 1), alg: "ECDSA-P256", detects: true},
		{name: "IPv6 addresses not in canonical form", config: ipv6Config, alg: "ECDSA-P256"},
		{name: "IPv4-mapped addresses", config: mappedConfig, alg: "ECDSA-P256"},
		{name: "separator with a tab and a comment", config: clusterFirst("---\t# this node"), alg: "ECDSA-P256"},
		{name: "IPv6 only", config: ipv6OnlyConfig, alg: "ECDSA-P256"},
		{name: "dual-stack, IPv4 advertise address", config: strings.NewReplacer("ADDR", "192.0.2.30", "SUBNETS", "10.96.0.0/16,fd00:10:96::/112").Replace(dualStackConfig), alg: "ECDSA-P256"},
		{name: "dual-stack, IPv6 advertise address", config: strings.NewReplacer("ADDR", "2001:db8::30", "SUBNETS", "10.96.0.0/16,fd00:10:96::/112").Replace(dualStackConfig), alg: "ECDSA-P256"},
		{name: "dual-stack, IPv6 service subnet first", config: strings.NewReplacer("ADDR", "2001:db8::30", "SUBNETS", "fd00:10:96::/112,10.96.0.0/16").Replace(dualStackConfig), alg: "ECDSA-P256"},
		{name: "IPv6 endpoint without port", config: strings.NewReplacer("ENDPOINT", "2001:db8::20", "NAME", "cp-1").Replace(endpointConfig), alg: "ECDSA-P256"},
		{name: "IPv6 endpoint in brackets with port", config: strings.NewReplacer("ENDPOINT", "[2001:db8::20]:443", "NAME", "cp-1").Replace(endpointConfig), alg: "ECDSA-P256"},
		{name: "DNS endpoint, node name with dots and upper case", config: strings.NewReplacer("ENDPOINT", "api.example.com:6443", "NAME", "CP-1.Prod.Example.com").Replace(endpointConfig), alg: "ECDSA-P256"},
		{name: "IPv4 endpoint, IPv6 advertise address", config: strings.NewReplacer("ENDPOINT", "192.0.2.20:6443", "NAME", "cp-1").Replace(endpointConfig), alg: "ECDSA-P256"},
		{
			name:   "v1beta3 as kubeadm v1.36 read it",
			config: strings.Replace(minimalConfig, "certificateValidityPeriod: 2160h\ncaCertificateValidityPeriod: 26280h\n", "", 1), alg: "ECDSA-P256",
			certctlConfig: v1beta3Config,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.detects {
				if _, err := utilnet.ResolveBindAddress(nil); err != nil {
					t.Skipf("no address to detect on this machine: %v", err)
				}
			}
			trees := map[string]string{}
			for tool, bin := range map[string]string{"kubeadm": kubeadm, "certctl": certctl} {
				dir := filepath.Join(t.TempDir(), tool)
				config := tt.config
				if tool == "certctl" && tt.certctlConfig != "" {
					config = tt.certctlConfig
				}
				cfgPath := writeConfig(t, config, filepath.Join(dir, "pki"), tt.alg)
				for _, args := range [][]string{
					{"certs", "all", "--config", cfgPath},
					{"kubeconfig", "all", "--config", cfgPath, "--kubeconfig-dir", dir},
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

// TestRefusesWhatKubeadmRefuses: a configuration kubeadm v1.37 refuses is
// refused by certctl too, with one line naming the file and the field, and
// nothing written.
func TestRefusesWhatKubeadmRefuses(t *testing.T) {
	certctl, kubeadm := binaries(t)
	cluster := func(extra string) string {
		return strings.Replace(minimalConfig, "encryptionAlgorithm: ALG\n", "encryptionAlgorithm: ALG\n"+extra+"\n", 1)
	}
	tests := []struct {
		name, config string
		want         []string // in certctl's error, besides the file's path
	}{
		{"service subnet too small", cluster("networking: {serviceSubnet: 10.96.0.0/30}"), []string{"networking.serviceSubnet", "too small"}},
		{"service subnet too large", cluster(`networking: {serviceSubnet: "fd00::/64"}`), []string{"networking.serviceSubnet", "too large"}},
		{"two IPv4 service subnets", cluster(`networking: {serviceSubnet: "10.96.0.0/12,10.97.0.0/16"}`), []string{"networking.serviceSubnet", "two CIDRs from each family"}},
		{"three service subnets", cluster(`networking: {serviceSubnet: "10.96.0.0/12,fd00::/108,10.1.0.0/16"}`), []string{"networking.serviceSubnet", "two CIDRs from each family"}},
		{"kind twice", minimalConfig + "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: CERTDIR\n", []string{`kind "ClusterConfiguration" is specified twice`}},
		{"relative certificatesDir", strings.Replace(minimalConfig, "certificatesDir: CERTDIR", "certificatesDir: relpki", 1), []string{`certificatesDir "relpki": path is not absolute`}},
		{"v1beta3 feature gate", cluster("featureGates: {PublicKeysECDSA: true}"), []string{"featureGates: PublicKeysECDSA is not a valid feature name", "encryptionAlgorithm: ECDSA-P256"}},
		{"upper-case etcd SAN", cluster("etcd: {local: {peerCertSANs: [Peer.Example.com]}}"), []string{"etcd.local.peerCertSANs", `use "peer.example.com"`}},
		{"upper-case DNS domain", cluster("networking: {dnsDomain: Corp.Local}"), []string{"networking.dnsDomain", `use "corp.local"`}},
		{"DNS domain with an underscore", cluster("networking: {dnsDomain: corp_local}"), []string{"networking.dnsDomain", "use a DNS domain such as cluster.local"}},
		{"upper-case control-plane endpoint", cluster("controlPlaneEndpoint: CP.Example.COM"), []string{"controlPlaneEndpoint", `use "cp.example.com"`}},
		{"control-plane endpoint port with a sign", cluster(`controlPlaneEndpoint: "cp.example.com:+6443"`), []string{"controlPlaneEndpoint", `port "+6443" must be a number from 1 to 65535`}},
		{"empty certificateValidityPeriod", strings.Replace(minimalConfig, "certificateValidityPeriod: 2160h", `certificateValidityPeriod: ""`, 1), []string{`invalid certificateValidityPeriod "": time: invalid duration ""`}},
		{"comment without # after a document separator", clusterFirst("--- this node"), []string{`invalid YAML document separator "--- this node"`}},
		{"link-local advertise address", strings.Replace(minimalConfig, "192.0.2.20", `"fe80::1"`, 1), []string{"localAPIEndpoint.advertiseAddress", "link-local"}},
		// No certificate depends on these, but kubeadm refuses them.
		{"pod subnet mask out of range", cluster("networking: {podSubnet: 10.244.0.0/33}"), []string{"networking.podSubnet", "couldn't parse subnet"}},
		{"two IPv4 pod subnets", cluster(`networking: {podSubnet: "10.244.0.0/16,10.245.0.0/16"}`), []string{"networking.podSubnet", "two CIDRs from each family"}},
		{"external etcd without endpoints", cluster("etcd: {external: {caFile: /e/ca.crt}}"), []string{"etcd.external", "at least one endpoint"}},
		{"external etcd certFile alone", cluster("etcd: {external: {endpoints: [https://10.0.0.5:2379], caFile: /e/ca.crt, certFile: /e/c.crt}}"), []string{"etcd.external.certFile and etcd.external.keyFile"}},
		{"external etcd pair without caFile", cluster("etcd: {external: {endpoints: [https://10.0.0.5:2379], certFile: /e/c.crt, keyFile: /e/c.key}}"), []string{"requires etcd.external.caFile"}},
		{"external etcd endpoint without scheme", cluster("etcd: {external: {endpoints: [\"10.0.0.5:2379\"]}}"), []string{"etcd.external.endpoints", "10.0.0.5:2379"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for tool, bin := range map[string]string{"kubeadm": kubeadm, "certctl": certctl} {
				dir := t.TempDir()
				cfgPath := writeConfig(t, tt.config, filepath.Join(dir, "pki"), "ECDSA-P256")
				cmd := command(tool, bin, "certs", "all", "--config", cfgPath)
				cmd.Dir = dir // where a relative certificatesDir would go
				out, err := cmd.CombinedOutput()
				if err == nil {
					t.Fatalf("%s accepted the configuration:\n%s", tool, out)
				}
				if files := listFiles(t, dir); len(files) > 0 {
					t.Errorf("%s wrote %q", tool, files)
				}
				if tool == "kubeadm" {
					continue
				}
				// The error; a mistake found once the file is read (by
				// Validate) follows certctl's "[config] using the
				// configuration file" line.
				msg := strings.TrimSpace(string(out))
				if _, rest, ok := strings.Cut(msg, "[config] using the configuration file "+cfgPath+"\n"); ok {
					msg = rest
				}
				if strings.Count(msg, "\n") > 0 {
					t.Errorf("certctl's error has more than one line:\n%s", msg)
				}
				for _, w := range append([]string{cfgPath}, tt.want...) {
					if !strings.Contains(msg, w) {
						t.Errorf("certctl's error %q does not contain %q", msg, w)
					}
				}
			}
		})
	}
}

// TestKubeadmRefusesV1beta3 checks what docs/init.md says: kubeadm v1.37
// refuses v1beta3, which certctl reads (TestSameFilesAsKubeadm).
func TestKubeadmRefusesV1beta3(t *testing.T) {
	_, kubeadm := binaries(t)
	dir := t.TempDir()
	cfgPath := writeConfig(t, v1beta3Config, filepath.Join(dir, "pki"), "")
	out, err := command("kubeadm", kubeadm, "certs", "all", "--config", cfgPath).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "uses an old API spec") {
		t.Errorf("kubeadm v1.37 with a v1beta3 file: %v\n%s", err, out)
	}
}

// TestFlagsOverConfig checks what docs/init.md says: kubeadm v1.37 refuses
// --config with --cert-dir, and certctl applies the flag over the file's
// certificatesDir.
func TestFlagsOverConfig(t *testing.T) {
	certctl, kubeadm := binaries(t)
	dir := t.TempDir()
	cfgPath := writeConfig(t, minimalConfig, filepath.Join(dir, "file-pki"), "ECDSA-P256")
	flagDir := filepath.Join(dir, "flag-pki")
	out, err := run("kubeadm", kubeadm, "certs", "ca", "--config", cfgPath, "--cert-dir", flagDir)
	if err == nil || !strings.Contains(string(out), "can not mix '--config' with arguments [cert-dir]") {
		t.Errorf("kubeadm v1.37 with --config and --cert-dir: %v\n%s", err, out)
	}
	if out, err := run("certctl", certctl, "certs", "ca", "--config", cfgPath, "--cert-dir", flagDir); err != nil {
		t.Fatalf("certctl with --config and --cert-dir: %v\n%s", err, out)
	}
	if files := listFiles(t, dir); !reflect.DeepEqual(files, []string{"flag-pki/ca.crt", "flag-pki/ca.key"}) {
		t.Errorf("certctl wrote %q, want the CA in --cert-dir only", files)
	}
}

// writeConfig writes config, with CERTDIR and ALG replaced, into a new
// folder, and returns its path.
func writeConfig(t *testing.T, config, certDir, alg string) string {
	t.Helper()
	cfg := strings.NewReplacer("CERTDIR", certDir, "ALG", alg).Replace(config)
	p := filepath.Join(t.TempDir(), "kubeadm.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// command runs `kubeadm init phase ARGS` or `certctl init-phase ARGS`.
func command(tool, bin string, args ...string) *exec.Cmd {
	if tool == "kubeadm" {
		return exec.Command(bin, append([]string{"init", "phase"}, args...)...)
	}
	return exec.Command(bin, append([]string{"init-phase"}, args...)...)
}

func run(tool, bin string, args ...string) ([]byte, error) {
	return command(tool, bin, args...).CombinedOutput()
}

func compareTrees(t *testing.T, want, got string) {
	wantFiles, gotFiles := listFiles(t, want), listFiles(t, got)
	if !reflect.DeepEqual(wantFiles, gotFiles) {
		t.Fatalf("file sets differ:\n kubeadm %v\n certctl %v", wantFiles, gotFiles)
	}
	for _, rel := range wantFiles {
		w, g := filepath.Join(want, rel), filepath.Join(got, rel)
		t.Run(rel, func(t *testing.T) {
			if mw, mg := mode(t, w), mode(t, g); mw != mg {
				t.Errorf("mode: kubeadm %v, certctl %v", mw, mg)
			}
			switch {
			case strings.HasSuffix(rel, ".conf"):
				compareKubeconfigs(t, w, g)
			default:
				compareDescriptions(t, describePEM(t, w, want), describePEM(t, g, got))
			}
		})
	}
}

// listFiles lists the files under dir, without certctl's lock file (which
// kubeadm has no equivalent of: it does not serialize its commands).
func listFiles(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != lock.FileName {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func mode(t *testing.T, p string) fs.FileMode {
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode()
}

// describe reduces a PEM file to what must be identical between the tools.
// Times are made relative: validity length, and NotBefore against the
// issuing CA's NotBefore, to the minute (the two tools run seconds apart).
func describePEM(t *testing.T, path, root string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		out = append(out, "PEM "+block.Type)
		if block.Type != "CERTIFICATE" {
			if strings.Contains(block.Type, "PRIVATE KEY") || block.Type == "PUBLIC KEY" {
				out = append(out, keyKind(t, block))
			}
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, describeCert(c)...)
	}
	return out
}

func describeCert(c *x509.Certificate) []string {
	var exts []string
	for _, e := range c.Extensions {
		exts = append(exts, fmt.Sprintf("%s critical=%v", e.Id, e.Critical))
	}
	sort.Strings(exts)
	var ips []string
	for _, ip := range c.IPAddresses {
		ips = append(ips, ip.String())
	}
	return []string{
		"subject " + c.Subject.String(),
		"issuer " + c.Issuer.String(),
		fmt.Sprintf("dns %q", c.DNSNames),
		fmt.Sprintf("ips %q", ips),
		fmt.Sprintf("keyUsage %v", c.KeyUsage),
		fmt.Sprintf("extKeyUsage %v", c.ExtKeyUsage),
		fmt.Sprintf("basicConstraints valid=%v ca=%v", c.BasicConstraintsValid, c.IsCA),
		fmt.Sprintf("publicKey %v %s", c.PublicKeyAlgorithm, pubSize(c)),
		fmt.Sprintf("signature %v", c.SignatureAlgorithm),
		fmt.Sprintf("validity %v", c.NotAfter.Sub(c.NotBefore).Round(time.Minute)),
		fmt.Sprintf("serial positive=%v bits<=63 %v", c.SerialNumber.Sign() > 0, c.SerialNumber.BitLen() <= 63),
		fmt.Sprintf("extensions %v", exts),
		fmt.Sprintf("version %d", c.Version),
	}
}

func compareDescriptions(t *testing.T, want, got []string) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("kubeadm:\n  %s\ncertctl:\n  %s", strings.Join(want, "\n  "), strings.Join(got, "\n  "))
		return
	}
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("kubeadm %q\ncertctl %q", want[i], got[i])
		}
	}
}

func compareKubeconfigs(t *testing.T, want, got string) {
	load := func(p string) ([]string, []string) {
		cfg, err := clientcmd.LoadFromFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var desc []string
		desc = append(desc, "current-context "+cfg.CurrentContext)
		for name, c := range cfg.Contexts {
			desc = append(desc, fmt.Sprintf("context %s cluster=%s user=%s ns=%q", name, c.Cluster, c.AuthInfo, c.Namespace))
		}
		var certs []string
		for name, c := range cfg.Clusters {
			desc = append(desc, fmt.Sprintf("cluster %s server=%s ca-bytes>0=%v ca-file=%q", name, c.Server, len(c.CertificateAuthorityData) > 0, c.CertificateAuthority))
			certs = append(certs, pemDescription(t, c.CertificateAuthorityData)...)
		}
		for name, u := range cfg.AuthInfos {
			desc = append(desc, fmt.Sprintf("user %s token=%v", name, u.Token != ""))
			certs = append(certs, pemDescription(t, u.ClientCertificateData)...)
			certs = append(certs, pemDescription(t, u.ClientKeyData)...)
		}
		sort.Strings(desc)
		return desc, certs
	}
	wd, wc := load(want)
	gd, gc := load(got)
	compareDescriptions(t, wd, gd)
	compareDescriptions(t, wc, gc)
}

func pemDescription(t *testing.T, data []byte) []string {
	f := filepath.Join(t.TempDir(), "x.pem")
	os.WriteFile(f, data, 0o600)
	return describePEM(t, f, "")
}
