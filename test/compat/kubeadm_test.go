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

func TestSameFilesAsKubeadm(t *testing.T) {
	certctl, kubeadm := binaries(t)
	tests := []struct{ name, config, alg string }{
		{"full config RSA-2048", fullConfig, "RSA-2048"},
		{"minimal config ECDSA-P384", minimalConfig, "ECDSA-P384"},
		{"minimal config ECDSA-P256", minimalConfig, "ECDSA-P256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trees := map[string]string{}
			for tool, bin := range map[string]string{"kubeadm": kubeadm, "certctl": certctl} {
				dir := filepath.Join(t.TempDir(), tool)
				cfg := strings.NewReplacer("CERTDIR", filepath.Join(dir, "pki"), "ALG", tt.alg).Replace(tt.config)
				cfgPath := filepath.Join(t.TempDir(), "kubeadm.yaml")
				if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
					t.Fatal(err)
				}
				for _, args := range [][]string{
					{"certs", "all", "--config", cfgPath},
					{"kubeconfig", "all", "--config", cfgPath, "--kubeconfig-dir", dir},
				} {
					var full []string
					if tool == "kubeadm" {
						full = append([]string{"init", "phase"}, args...)
					} else {
						full = append([]string{"init-phase"}, args...)
					}
					if out, err := exec.Command(bin, full...).CombinedOutput(); err != nil {
						t.Fatalf("%s %s: %v\n%s", tool, strings.Join(full, " "), err, out)
					}
				}
				trees[tool] = dir
			}
			compareTrees(t, trees["kubeadm"], trees["certctl"])
		})
	}
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
